import type { ContentFilterOptions } from './text/content-filter';

/** The tunable numbers of the domain's rules (docs/design.md §3), the same in both modes. */
export interface DomainRules {
  dailyMatchLimit: number;
  autoApproveProfiles: boolean;
  /** Candidates must have been active within this long. */
  activeWithinMs: number;
  /** Interval of the expiry and secret-message sweeper. */
  sweepIntervalMs: number;
  matchTtlMs: number;
  extendMs: number;
  secretMessageTtlMs: number;
  /** How long after sending the sender may take a message back (docs/design.md §4.6). */
  unsendWindowSeconds: number;
  messageRate: { points: number; windowSeconds: number };
  /** The word filter of messages, names and bios (docs/design.md §3.14). */
  contentFilter: ContentFilterOptions;
  /** Reports one user may file (repeats that fold included). */
  reportRate: { points: number; windowSeconds: number };
  /** REST request limits; `points: 0` means no limit. */
  httpRate: {
    perIp: { points: number; windowSeconds: number };
    perUser: { points: number; windowSeconds: number };
  };
  /** Sockets one user may hold on one process; 0: no cap. */
  maxSocketsPerUser: number;
  /** Socket handshakes per client address; `points: 0` means no limit. */
  handshakeRatePerIp: { points: number; windowSeconds: number };
  messageBatchMax: number;
  messageWriteLanes: number;
  /** Least ms between two write calls of a lane (MessageWriter's `minIntervalMs`). */
  messageWriteIntervalMs: number;
  presenceTtlMs: number;
  photoMaxBytes: number;
  /** A match warns both users (`match:expiring`, a push) this long before it expires. */
  expiryWarningMs: number;
}

const SECOND_MS = 1_000;
const HOUR_MS = 3_600_000;

/**
 * The rules with every default, a fresh object each call: for tests and tools that build services
 * by hand. The environment's defaults (`@mm/platform`'s `commonEnv`) are read from here.
 */
export function defaultDomainRules(): DomainRules {
  return {
    dailyMatchLimit: 3,
    autoApproveProfiles: true,
    activeWithinMs: 30 * 24 * HOUR_MS,
    sweepIntervalMs: 30 * SECOND_MS,
    matchTtlMs: 48 * HOUR_MS,
    extendMs: 24 * HOUR_MS,
    secretMessageTtlMs: 86_400 * SECOND_MS,
    unsendWindowSeconds: 600,
    messageRate: { points: 60, windowSeconds: 10 },
    reportRate: { points: 10, windowSeconds: 3_600 },
    contentFilter: { mode: 'off', words: [] },
    httpRate: {
      perIp: { points: 600, windowSeconds: 60 },
      perUser: { points: 300, windowSeconds: 60 },
    },
    maxSocketsPerUser: 10,
    handshakeRatePerIp: { points: 120, windowSeconds: 60 },
    messageBatchMax: 500,
    messageWriteLanes: 1,
    messageWriteIntervalMs: 5,
    presenceTtlMs: 30 * SECOND_MS,
    photoMaxBytes: 5_000_000,
    expiryWarningMs: HOUR_MS,
  };
}
