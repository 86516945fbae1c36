import {
  historyQuery,
  sendMessageRequest,
  type HistoryPage,
  type HistoryQuery,
  type MessageView,
  type SendMessageRequest,
} from '@mm/client/contract';
import {
  appendMessage,
  findMessageByClientId,
  listMessagesBefore,
  lockMatchForSend,
  type Database,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import type { MatchService } from '../matches/match.service';
import type { Realtime } from '../realtime/realtime';
import { toMessageView } from '../views';

export interface SendResult {
  message: MessageView;
  /** False when the client_id was seen before: the original is returned and nothing is stored. */
  created: boolean;
}

export class MessageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly matches: MatchService,
    private readonly realtime: Realtime,
  ) {}

  /**
   * Stores a message under the match's next seq and delivers `message:new` to the match room.
   * `origin` is a room left out of the delivery: the sending socket, which has the ack instead.
   */
  async send(senderId: number, input: SendMessageRequest, origin?: string): Promise<SendResult> {
    const { match_id: matchId, client_id: clientId, body } = sendMessageRequest.parse(input);
    const result = await this.db.transaction().execute(async (trx) => {
      const match = await lockMatchForSend(trx, matchId);
      if (!match || (match.user_a !== senderId && match.user_b !== senderId)) {
        throw new AppError('NOT_FOUND', 'No such match.');
      }
      const original = await findMessageByClientId(trx, { matchId, senderId, clientId });
      if (original) return { message: original, created: false };
      if (match.status !== 'active' || match.expires_at.getTime() <= Date.now()) {
        throw new AppError('MATCH_NOT_ACTIVE', 'This match has ended.', { status: match.status });
      }
      const message = await appendMessage(trx, {
        matchId,
        senderId,
        clientId,
        body,
        isSecret: false,
        expiresAt: null,
      });
      return { message, created: true };
    });
    const view = toMessageView(result.message);
    // A resend is delivered again too: the first delivery may be what the sender's crash lost,
    // and receivers drop a seq they already hold.
    this.realtime.toMatch(matchId, 'message:new', view, origin);
    return { message: view, created: result.created };
  }

  /** A page of history, oldest first within the page; `next_cursor` reads further back. */
  async history(userId: number, matchId: number, query: HistoryQuery): Promise<HistoryPage> {
    await this.matches.requireParticipant(matchId, userId);
    const { before, limit } = historyQuery.parse(query);
    const rows = await listMessagesBefore(this.db, {
      matchId,
      ...(before && { before }),
      limit: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return {
      messages: page.map(toMessageView),
      next_cursor: hasMore && page[0] ? page[0].seq : null,
      has_more: hasMore,
    };
  }
}
