import { findMatchesByIds, type Database, type Match } from '@mm/db';
import type { Kysely } from 'kysely';

interface Waiter {
  resolve(match: Match | undefined): void;
  reject(error: unknown): void;
}

/**
 * Reads matches by id for the send path, every read asked for in one turn of the event loop in one
 * query. The message writer answers a whole batch at once, so the messages of a batch share one
 * read after their one write, and group commit stays two round trips per batch, not one per
 * message.
 */
export class MatchReader {
  private pending = new Map<number, Waiter[]>();

  constructor(private readonly db: Kysely<Database>) {}

  /** The match as it stands now; undefined when there is no such match. */
  read(matchId: number): Promise<Match | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => void this.flush());
      const waiters = this.pending.get(matchId) ?? [];
      waiters.push({ resolve, reject });
      this.pending.set(matchId, waiters);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    try {
      const rows = await findMatchesByIds(this.db, [...batch.keys()]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const [id, waiters] of batch) waiters.forEach((w) => w.resolve(byId.get(id)));
    } catch (error) {
      for (const waiters of batch.values()) waiters.forEach((w) => w.reject(error));
    }
  }
}
