import type { ParsedReceiptRequest } from '@mm/contract';
import { advanceReceipt, type Database, type ReceiptKind } from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import type { Realtime } from '../realtime/realtime';
import { isWithdrawn } from '../unlock/unlock-levels';
import type { UnreadTotals } from './unread-totals';

/** The event each receipt is told by. */
const RECEIPT_EVENT = { read: 'read', delivered: 'message:delivered' } as const;

/**
 * Receipts: each side's last read seq and last delivered seq of a match, kept on the match row
 * (docs/design.md §4.7). Each only moves forward and never beyond the messages the match has;
 * when it moves, both users' sockets hear of it (`read` or `message:delivered`: the partner for
 * the marks, the user's other devices for their badges). After a block or unmatch only the
 * user's own devices do: nothing crosses to the partner. A read that moves also changes the
 * reader's unread total.
 */
export class ReadReceiptService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    private readonly unread: UnreadTotals,
  ) {}

  /** `origin` is a room left out of the `read` event: the socket that sent it. */
  async markRead(userId: number, request: ParsedReceiptRequest, origin?: string): Promise<number> {
    const { lastSeq, advanced } = await this.advance('read', userId, request, origin);
    if (advanced) this.unread.changed([userId]);
    return lastSeq;
  }

  /** `origin` is a room left out of the `message:delivered` event: the socket that sent it. */
  async markDelivered(
    userId: number,
    request: ParsedReceiptRequest,
    origin?: string,
  ): Promise<number> {
    return (await this.advance('delivered', userId, request, origin)).lastSeq;
  }

  private async advance(
    kind: ReceiptKind,
    userId: number,
    { match_id: matchId, seq }: ParsedReceiptRequest,
    origin: string | undefined,
  ): Promise<{ lastSeq: number; advanced: boolean }> {
    const result = await advanceReceipt(this.db, kind, { matchId, userId, seq });
    if (!result) throw new AppError('NOT_FOUND', 'No such match.');
    if (result.advanced) {
      // Once the match ended by block or unmatch the partner is withdrawn: the receipt still
      // counts for the user's own devices, but the partner no longer hears of it.
      const withdrawn = isWithdrawn({ status: result.matchStatus });
      this.realtime.toUsers(
        withdrawn ? [userId] : [result.partnerId, userId],
        RECEIPT_EVENT[kind],
        { match_id: matchId, user_id: userId, seq: result.lastSeq },
        origin,
      );
    }
    return result;
  }
}
