import {
  UNLOCK_THRESHOLDS,
  historyQuery,
  sendMessageRequest,
  type HistoryPage,
  type HistoryQuery,
  type MessageView,
  type SendMessageRequest,
} from '@mm/client/contract';
import { listMessagesBefore, type Database, type Match } from '@mm/db';
import type { Kysely } from 'kysely';
import type { MatchService } from '../matches/match.service';
import type { RateLimiter } from '../limits/rate-limiter';
import type { Realtime } from '../realtime/realtime';
import type { Metrics } from '../observability/metrics';
import type { MessageWriter } from './message-writer';
import { MatchReader } from './match-reader';
import type { Logger } from '../logger';
import type { MatchViews } from '../unlock/match-views';
import { contactsVisible } from '../unlock/unlock-levels';
import { toMessageView } from '../views';

export interface SendResult {
  message: MessageView;
  /** False when the client_id was seen before: the original is returned and nothing is stored. */
  created: boolean;
}

export class MessageService {
  /** Per match, the last delivery waiting for its turn (`inSeqOrder`). */
  private readonly deliveries = new Map<number, Promise<void>>();
  /** The match after a send, read once for all the sends a batch answered. */
  private readonly reader: MatchReader;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly writer: MessageWriter,
    private readonly matches: MatchService,
    private readonly realtime: Realtime,
    /** Messages per user and window, over every socket, pod and the REST send. */
    private readonly limiter: RateLimiter,
    private readonly views: MatchViews,
    private readonly metrics?: Pick<Metrics, 'messageSent'>,
    private readonly logger?: Logger,
  ) {
    this.reader = new MatchReader(db);
  }

  /**
   * Counts against the sender's message rate (RATE_LIMITED with `retry_after` when over), then
   * stores a message under the match's next seq (batched with concurrent sends by the writer) and
   * delivers `message:new` to the match room. Until the match is fully unlocked, contact details
   * are masked in what both sides get (stored as sent: the history shows them once unlocked).
   * The message that opens an unlock level (both sides' shares counted) also sends
   * `match:unlocked` to both.
   * `origin` is a room left out of the delivery: the sending socket, which has the ack instead.
   */
  async send(senderId: number, input: SendMessageRequest, origin?: string): Promise<SendResult> {
    const { match_id: matchId, client_id: clientId, body } = sendMessageRequest.parse(input);
    await this.limiter.consume(senderId);
    const result = await this.writer.append({ matchId, senderId, clientId, body });
    // Taken right after the writer answers, so in seq order: the match is read in parallel, but
    // each message of a match is delivered only after the one before it.
    const match = await this.inSeqOrder(matchId, this.progressAfter(matchId, result.message.seq));
    const view = toMessageView(result.message, match !== undefined && contactsVisible(match));
    this.metrics?.messageSent(result.created);
    // A resend is delivered again too: the first delivery may be what the sender's crash lost,
    // and receivers drop a seq they already hold.
    this.realtime.toMatch(matchId, 'message:new', view, origin);
    if (result.created && match) {
      // The message is stored and delivered whatever happens here: a failure only costs the event
      // (clients also ask for the new view when their count reaches `next_level_at`).
      await this.views.announceIfUnlocked(match).catch((error: unknown) => {
        this.logger?.warn({ err: error, matchId }, 'could not announce an unlock');
      });
    }
    return { message: view, created: result.created };
  }

  /**
   * `work`'s result, once every delivery this pod took a turn for earlier in the same match has
   * gone: `message:new` leaves in the order the writer stored the messages (seq order), even when
   * one message's read of the match takes longer than the next one's.
   */
  private inSeqOrder<T>(matchId: number, work: Promise<T>): Promise<T> {
    const turn = (this.deliveries.get(matchId) ?? Promise.resolve()).then(() => work);
    const done = turn.then(
      () => undefined,
      () => undefined,
    );
    this.deliveries.set(matchId, done);
    void done.then(() => {
      if (this.deliveries.get(matchId) === done) this.deliveries.delete(matchId);
    });
    return turn;
  }

  /**
   * The match as it stands after a message at `seq` (the seq is gapless: the total then), when a
   * level may be open: below the first threshold none can be, and nothing is read. Undefined also
   * when the read fails: the message is then delivered masked and no unlock is announced.
   */
  private async progressAfter(matchId: number, seq: number): Promise<Match | undefined> {
    if (seq < UNLOCK_THRESHOLDS[1]) return undefined;
    return this.reader.read(matchId).catch((error: unknown) => {
      this.logger?.warn({ err: error, matchId }, 'could not read the match after a send');
      return undefined;
    });
  }

  /** A page of history, oldest first within the page; `next_cursor` reads further back. */
  async history(userId: number, matchId: number, query: HistoryQuery): Promise<HistoryPage> {
    const match = await this.matches.requireParticipant(matchId, userId);
    const { before, limit } = historyQuery.parse(query);
    const rows = await listMessagesBefore(this.db, {
      matchId,
      ...(before && { before }),
      limit: limit + 1,
    });
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return {
      messages: page.map((message) => toMessageView(message, contactsVisible(match))),
      next_cursor: hasMore && page[0] ? page[0].seq : null,
      has_more: hasMore,
    };
  }
}
