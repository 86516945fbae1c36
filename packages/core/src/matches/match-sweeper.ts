import { expireDueMatches, purgeExpiredMessages, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger';
import type { Realtime } from '../realtime/realtime';
import { announceMatchEnded } from '../realtime/match-events';

/** Rows one statement handles; a sweep repeats until a batch comes back short. */
const SWEEP_BATCH = 500;

export interface SweepResult {
  expired: number;
  purged: number;
}

/**
 * Marks matches past their expiry as expired (telling both sides and emptying the room) and
 * deletes secret messages past theirs. Safe with several pods sweeping at once: rows another
 * sweeper holds are skipped and each expired match is announced once. Sends to an expired match
 * are refused before the sweep already (the message writer checks `expires_at`).
 */
export class MatchSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    private readonly logger?: Logger,
  ) {}

  async sweep(): Promise<SweepResult> {
    let expired = 0;
    for (;;) {
      const matches = await expireDueMatches(this.db, SWEEP_BATCH);
      for (const match of matches) announceMatchEnded(this.realtime, match, 'expired');
      expired += matches.length;
      if (matches.length < SWEEP_BATCH) break;
    }
    let purged = 0;
    for (;;) {
      const count = await purgeExpiredMessages(this.db, SWEEP_BATCH);
      purged += count;
      if (count < SWEEP_BATCH) break;
    }
    if (expired + purged > 0) this.logger?.info({ expired, purged }, 'swept matches and messages');
    return { expired, purged };
  }

  /** Sweeps every `intervalMs` (never two sweeps at once) until `stop`. */
  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((error: unknown) => this.logger?.error({ err: error }, 'sweep failed'))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
