import type {
  HistoryPage,
  MessageView,
  ParsedDeleteMessageRequest,
  ParsedHistoryQuery,
  ParsedSendMessageRequest,
} from '@mm/contract';
import { listMessagesBefore, unsendMessage, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import type { MatchService } from '../matches/match.service';
import type { RateLimiter } from '../limits/rate-limiter';
import type { Realtime } from '../realtime/realtime';
import type { DomainMetrics } from '../metrics';
import type { MessageWriter } from './message-writer';
import type { Logger } from '../logger';
import { opensLevel, type MatchViews } from '../unlock/match-views';
import { contactsVisible } from '../unlock/unlock-levels';
import type { ContentFilter } from '../text/content-filter';
import { AppError } from '../errors';
import { toMessageView } from '../unlock/message-view';
import type { UnreadTotals } from './unread-totals';

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
    private readonly unread: UnreadTotals,
    /** How long after sending a message may be taken back (docs/design.md §4.6). */
    private readonly unsendWindowSeconds: number,
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
    if (created) this.unread.messageFrom(matchId, senderId);
    // Once per match and batch, from the batch's last message of the match, whose counts are the
    // match's: a level it may have opened is announced at most once, the highest one.
    if (created && match.latest && opensLevel(match)) {
      // The message is stored and delivered whatever happens here: a failure only costs the event
      // (clients also ask for the new view when their count reaches `next_level_at`).
      await this.views.announceIfUnlocked(match).catch((error: unknown) => {
        this.logger?.warn({ err: error, matchId }, 'could not announce an unlock');
      });
    }
    return { message: view, created };
  }

  /**
   * Takes back the sender's own message within the unsend window (docs/design.md §4.6): the body
   * is erased from the database, the seq stays as a tombstone, no count goes down. Both users'
   * sockets hear `message:deleted` (the partner's clients drop the text; the sender's other
   * devices too), in any match status: the sender may take back what they sent just before a
   * block or an expiry. Taking back a message taken back already answers its tombstone again
   * and tells no one. `origin` is a room left out of the event: the socket that asked.
   */
  async unsend(
    userId: number,
    { match_id: matchId, seq }: ParsedDeleteMessageRequest,
    origin?: string,
  ): Promise<MessageView> {
    const result = await unsendMessage(this.db, {
      matchId,
      seq,
      userId,
      windowSeconds: this.unsendWindowSeconds,
    });
    switch (result.outcome) {
      case 'not_found':
        throw new AppError('NOT_FOUND', 'No such message.');
      case 'not_sender':
        throw new AppError('NOT_MESSAGE_SENDER', 'Only the sender may take a message back.');
      case 'window_closed':
        throw new AppError('UNSEND_WINDOW_CLOSED', 'This message is too old to take back.', {
          window_seconds: this.unsendWindowSeconds,
        });
    }
    if (result.outcome === 'deleted') {
      this.realtime.toUsers(
        [result.partnerId, userId],
        'message:deleted',
        { match_id: matchId, seq, user_id: userId },
        origin,
      );
      // It may have been one of the partner's unread messages.
      this.unread.messageFrom(matchId, userId);
    }
    // A tombstone shows no text: nothing left to mask.
    return toMessageView(result.message, true);
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
