import {
  claimExpiryWarnings,
  expireDueMatches,
  pruneSentNotifications,
  purgeExpiredMessages,
  type Database,
} from '@mm/db';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger';
import { Periodic } from '../periodic';
import type { Realtime } from '../realtime/realtime';
import { announceMatchEnded } from '../realtime/match-events';

/** Rows one statement handles; a sweep repeats until a batch comes back short. */
const SWEEP_BATCH = 500;

/** Sent pushes are kept this long (their event keys stay taken), then pruned. */
const SENT_NOTIFICATION_KEEP_MS = 7 * 24 * 3_600_000;

export interface SweepResult {
  expired: number;
  purged: number;
  /** Matches whose expiry warning this sweep claimed. */
  warned: number;
}

/**
 * Marks matches past their expiry as expired (telling both sides and emptying the room), deletes
 * secret messages past theirs, warns both sides of a match about to expire, and prunes old sent
 * pushes. Safe with several pods sweeping at once: rows another
 * sweeper holds are skipped and each expired match is announced once. Sends to an expired match
 * are refused before the sweep already (the message writer checks `expires_at`).
 */
export class MatchSweeper {
  private readonly periodic: Periodic;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    /** How long before its expiry a match warns both users (`match:expiring` and a push). */
    private readonly expiryWarningMs: number,
    private readonly logger?: Logger,
  ) {
    this.periodic = new Periodic('sweep', () => this.sweep(), logger);
  }

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
    const warned = await this.warnExpiring();
    await pruneSentNotifications(this.db, {
      olderThanMs: SENT_NOTIFICATION_KEEP_MS,
      limit: SWEEP_BATCH,
    });
    if (expired + purged + warned > 0) {
      this.logger?.info({ expired, purged, warned }, 'swept matches and messages');
    }
    return { expired, purged, warned };
  }

  /**
   * Claims the expiry warnings now due, each once across every pod (a conditional UPDATE that also
   * enqueues the push for both sides in the same statement), and tells both users' sockets.
   */
  private async warnExpiring(): Promise<number> {
    let warned = 0;
    for (;;) {
      const matches = await claimExpiryWarnings(this.db, {
        leadMs: this.expiryWarningMs,
        limit: SWEEP_BATCH,
      });
      for (const match of matches) {
        this.realtime.toUsers([match.user_a, match.user_b], 'match:expiring', {
          match_id: match.id,
          expires_at: match.expires_at.toISOString(),
        });
      }
      warned += matches.length;
      if (matches.length < SWEEP_BATCH) return warned;
    }
  }

  /** Sweeps every `intervalMs` (never two sweeps at once) until `stop`. */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }
}
