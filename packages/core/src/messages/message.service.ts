import type {
  HistoryPage,
  MessageView,
  ParsedHistoryQuery,
  ParsedSendMessageRequest,
} from '@mm/contract';
import { listMessagesBefore, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import type { MatchService } from '../matches/match.service';
import type { RateLimiter } from '../limits/rate-limiter';
import type { Realtime } from '../realtime/realtime';
import type { DomainMetrics } from '../metrics';
import type { MessageWriter } from './message-writer';
import type { Logger } from '../logger';
import type { MatchViews } from '../unlock/match-views';
import { contactsVisible } from '../unlock/unlock-levels';
import type { ContentFilter } from '../text/content-filter';
import { toMessageView } from './message-view';

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
    private readonly views: MatchViews,
    private readonly metrics?: DomainMetrics,
    private readonly logger?: Logger,
    /** Refuses (`refuse`) or masks for readers (`mask`) filtered words. */
    private readonly contentFilter?: ContentFilter,
  ) {}

  /**
   * Counts against the sender's message rate (RATE_LIMITED with `retry_after` when over), then
   * stores a message under the match's next seq (batched with concurrent sends by the writer) and
   * delivers `message:new` to the match room. Until the match is fully unlocked, contact details
   * are masked in what both sides get (stored as sent: the history shows them once unlocked).
   * The message that opens an unlock level (both sides' shares counted) also sends
   * `match:unlocked` to both.
   * `origin` is a room left out of the delivery: the sending socket, which has the ack instead.
   */
  async send(
    senderId: number,
    { match_id: matchId, client_id: clientId, body }: ParsedSendMessageRequest,
    origin?: string,
  ): Promise<SendResult> {
    await this.limiter.consume(senderId);
    this.contentFilter?.check('body', body);
    // The writer answers a match's sends in seq order (one lane per match), so its `message:new`
    // events leave in seq order too.
    const { message, created, match } = await this.writer.append({
      matchId,
      senderId,
      clientId,
      body,
    });
    // `match` is the match right after this message: it is masked by the level at it.
    const view = toMessageView(message, contactsVisible(match), this.contentFilter);
    this.metrics?.messageSent(created);
    // A resend is delivered again too: the first delivery may be what the sender's crash lost,
    // and receivers drop a seq they already hold.
    this.realtime.toMatch(matchId, 'message:new', view, origin);
    // Once per match and batch, from the batch's last message of the match, whose counts are the
    // match's: a level it may have opened is announced at most once, the highest one.
    if (created && match.latest) {
      // The message is stored and delivered whatever happens here: a failure only costs the event
      // (clients also ask for the new view when their count reaches `next_level_at`).
      await this.views.announceIfUnlocked(match).catch((error: unknown) => {
        this.logger?.warn({ err: error, matchId }, 'could not announce an unlock');
      });
    }
    return { message: view, created };
  }

  /** A page of history, oldest first within the page; `next_cursor` reads further back. */
  async history(
    userId: number,
    matchId: number,
    { before, limit }: ParsedHistoryQuery,
  ): Promise<HistoryPage> {
    const match = await this.matches.requireParticipant(matchId, userId);
    const rows = await listMessagesBefore(this.db, {
      matchId,
      ...(before && { before }),
      limit: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return {
      messages: page.map((message) =>
        toMessageView(message, contactsVisible(match), this.contentFilter),
      ),
      next_cursor: hasMore && page[0] ? page[0].seq : null,
      has_more: hasMore,
    };
  }
}
