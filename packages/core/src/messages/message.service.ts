import {
  historyQuery,
  sendMessageRequest,
  type HistoryPage,
  type HistoryQuery,
  type MessageView,
  type SendMessageRequest,
} from '@mm/client/contract';
import { listMessagesBefore, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import type { MatchService } from '../matches/match.service';
import type { RateLimiter } from '../limits/rate-limiter';
import type { Realtime } from '../realtime/realtime';
import type { Metrics } from '../observability/metrics';
import type { MessageWriter } from './message-writer';
import { toMessageView } from '../views';

export interface SendResult {
  message: MessageView;
  /** False when the client_id was seen before: the original is returned and nothing is stored. */
  created: boolean;
}

export class MessageService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: MessageWriter,
    private readonly matches: MatchService,
    private readonly realtime: Realtime,
    /** Messages per user and window, over every socket, pod and the REST send. */
    private readonly limiter: RateLimiter,
    private readonly metrics?: Pick<Metrics, 'messageSent'>,
  ) {}

  /**
   * Counts against the sender's message rate (RATE_LIMITED with `retry_after` when over), then
   * stores a message under the match's next seq (batched with concurrent sends by the writer) and
   * delivers `message:new` to the match room.
   * `origin` is a room left out of the delivery: the sending socket, which has the ack instead.
   */
  async send(senderId: number, input: SendMessageRequest, origin?: string): Promise<SendResult> {
    const { match_id: matchId, client_id: clientId, body } = sendMessageRequest.parse(input);
    await this.limiter.consume(senderId);
    const result = await this.writer.append({ matchId, senderId, clientId, body });
    const view = toMessageView(result.message);
    this.metrics?.messageSent(result.created);
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
