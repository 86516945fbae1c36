import { countUnreadTotals, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { BatchLoader } from '../batch-loader';
import type { Logger } from '../logger';
import type { Realtime } from '../realtime/realtime';

/**
 * Each user's unread total over all their matches, told by `unread:total` (docs/design.md §4.8):
 * to a socket when it connects (`of`), and to every device of a user whenever it may have changed
 * (`changed`, `messageFrom`): a message from the partner, a read, a message taken back.
 *
 * The total is counted, not kept: a counter would have to follow every send, read, unsend and
 * secret-message purge in the same transactions, and drift when one is missed. Counting is one
 * query for all users touched in one turn of the event loop, off the send's path (the ack does
 * not wait for it): a burst of messages costs one count per turn, not one per message. A failed
 * count costs only the event (logged); the next change or connect tells the right total.
 */
export class UnreadTotals {
  private users = new Set<number>();
  /** `matchId:senderId` → the pair: each counted once per flush however many messages came. */
  private messages = new Map<string, { matchId: number; senderId: number }>();
  private scheduled = false;
  /**
   * The counts, one after the other: a later total is emitted after an earlier one, so a client
   * never ends on a stale number.
   */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    private readonly logger?: Logger,
  ) {}

  /** Sockets connecting at once (a dead pod's clients) are counted together. */
  private readonly connecting = new BatchLoader<number, number>(
    (userIds) => countUnreadTotals(this.db, { userIds }),
    { maxBatch: 500, concurrency: 2, missing: () => 0 },
  );

  /** The user's total now (counted together with other users' asked for meanwhile). */
  of(userId: number): Promise<number> {
    return this.connecting.load(userId);
  }

  /** These users' totals may have changed: tell them. */
  changed(userIds: number[]): void {
    for (const userId of userIds) this.users.add(userId);
    this.schedule();
  }

  /** `senderId` wrote in (or took back a message of) `matchId`: tell the other side. */
  messageFrom(matchId: number, senderId: number): void {
    this.messages.set(`${matchId}:${senderId}`, { matchId, senderId });
    this.schedule();
  }

  /** Resolves once every change told so far has been counted and emitted (or failed). */
  async idle(): Promise<void> {
    let tail;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.tail = this.tail
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(() => this.flush());
  }

  private async flush(): Promise<void> {
    const userIds = [...this.users];
    const messagesFrom = [...this.messages.values()];
    this.users = new Set();
    this.messages = new Map();
    // Changes from here on are counted by the next flush.
    this.scheduled = false;
    try {
      const totals = await countUnreadTotals(this.db, { userIds, messagesFrom });
      for (const [userId, total] of totals) {
        this.realtime.toUsers([userId], 'unread:total', { total });
      }
    } catch (error) {
      this.logger?.warn({ err: error }, 'could not count unread totals');
    }
  }
}
