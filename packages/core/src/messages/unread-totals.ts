import { UNREAD_COUNT_CAP } from '@mm/contract';
import { countUnreadTotals, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger';
import type { Realtime } from '../realtime/realtime';

/** Counts while totals keep changing run at most this often per pod. */
export const UNREAD_TOTAL_INTERVAL_MS = 1_000;

/**
 * Each user's unread total over all their matches, told by `unread:total` (docs/design.md §4.8):
 * to a socket when it connects (read with its partners' presence, `ConnectingReads`), and to every device of a user whenever it may have changed
 * (`changed`, `messageFrom`): a message from the partner, a read, a message taken back.
 *
 * The total is counted, not kept: a counter would have to follow every send, read, unsend and
 * secret-message purge in the same transactions, and drift when one is missed. What bounds the
 * counting's cost: each match's count stops at `UNREAD_COUNT_CAP` rows, and one query counts for
 * every user touched since the last, at most one query per `intervalMs` (the first change after a
 * quiet spell is counted on the next turn of the event loop). So a busy chat costs about one
 * capped count per second per user, whatever its rate or its backlog, and it stays off the send's
 * path (the ack does not wait for it). A failed count costs only the event (logged); the next
 * change or connect tells the right total.
 */
export class UnreadTotals {
  private users = new Set<number>();
  /**
   * Match → the senders who wrote in it since the last flush: each pair counted once per flush
   * however many messages came, and a repeat allocates nothing (this runs for every message).
   */
  private messages = new Map<number, Set<number>>();
  private scheduled = false;
  /** When the last count began (`performance.now()`). */
  private lastCountAt = -Infinity;
  /**
   * The counts, one after the other: a later total is emitted after an earlier one, so a client
   * never ends on a stale number.
   */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    private readonly logger?: Logger,
    private readonly intervalMs = UNREAD_TOTAL_INTERVAL_MS,
  ) {}

  /** These users' totals may have changed: tell them. */
  changed(userIds: number[]): void {
    for (const userId of userIds) this.users.add(userId);
    this.schedule();
  }

  /** `senderId` wrote in (or took back a message of) `matchId`: tell the other side. */
  messageFrom(matchId: number, senderId: number): void {
    const senders = this.messages.get(matchId);
    if (senders) senders.add(senderId);
    else this.messages.set(matchId, new Set([senderId]));
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
    this.tail = this.tail.then(() => this.due()).then(() => this.flush());
  }

  /** Resolves when the next count may run: next turn, or `intervalMs` after the last one. */
  private due(): Promise<void> {
    const wait = this.lastCountAt + this.intervalMs - performance.now();
    if (wait <= 0) return new Promise((resolve) => setImmediate(resolve));
    // A pending count never holds a stopping process open: the next connect tells the total.
    return new Promise((resolve) => setTimeout(resolve, wait).unref());
  }

  private async flush(): Promise<void> {
    const userIds = [...this.users];
    const messagesFrom: { matchId: number; senderId: number }[] = [];
    for (const [matchId, senders] of this.messages) {
      for (const senderId of senders) messagesFrom.push({ matchId, senderId });
    }
    this.users = new Set();
    this.messages = new Map();
    // Changes from here on are counted by the next flush.
    this.scheduled = false;
    this.lastCountAt = performance.now();
    try {
      const totals = await countUnreadTotals(this.db, {
        userIds,
        messagesFrom,
        cap: UNREAD_COUNT_CAP,
      });
      for (const [userId, total] of totals) {
        this.realtime.toUsers([userId], 'unread:total', { total });
      }
    } catch (error) {
      this.logger?.warn({ err: error }, 'could not count unread totals');
    }
  }
}
