import type { ParsedReadRequest } from '@mm/contract';
import { advanceLastReadSeq, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import type { Realtime } from '../realtime/realtime';
import { isWithdrawn } from '../unlock/unlock-levels';

/**
 * Read receipts: each side's last read seq of a match, kept on the match row. It only moves
 * forward and never beyond the messages the match has; when it moves, both users' sockets hear
 * `read` (the partner for the tick marks, the reader's other devices for their unread badges).
 * After a block or unmatch only the reader's own devices do: nothing crosses to the partner.
 */
export class ReadReceiptService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
  ) {}

  /** `origin` is a room left out of the `read` event: the socket that sent it. */
  async markRead(
    userId: number,
    { match_id: matchId, seq }: ParsedReadRequest,
    origin?: string,
  ): Promise<number> {
    const result = await advanceLastReadSeq(this.db, { matchId, userId, seq });
    if (!result) throw new AppError('NOT_FOUND', 'No such match.');
    if (result.advanced) {
      // Once the match ended by block or unmatch the partner is withdrawn: the read still counts
      // for the reader's own unread badges, but the partner no longer hears of it.
      const withdrawn = isWithdrawn({ status: result.matchStatus });
      this.realtime.toUsers(
        withdrawn ? [userId] : [result.partnerId, userId],
        'read',
        { match_id: matchId, user_id: userId, seq: result.lastReadSeq },
        origin,
      );
    }
    return result.lastReadSeq;
  }
}
