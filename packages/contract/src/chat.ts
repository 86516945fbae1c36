import { z } from 'zod';
import { matchId } from './schemas.js';
import { messageView } from './wire.js';

/**
 * The realtime chat's own requests and payloads (docs/design.md §4): replay (`sync`), typing, read
 * receipts and presence. `message:send` lives in schemas.ts beside the REST send.
 */

/** A seq a client holds: 0 means "nothing yet". */
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Most messages one `sync` answer carries; page on while `has_more`. */
export const SYNC_PAGE_MAX = 500;
/** Most matches one `sync` may name. */
export const SYNC_MATCHES_MAX = 200;

export const syncRequest = z.object({
  /** `{ "<match_id>": <last seq the client holds> }`: the messages after it come back. */
  since: z
    .record(z.string().regex(/^[1-9][0-9]{0,15}$/, 'must be a match id'), seq)
    .refine((since) => Object.keys(since).length <= SYNC_MATCHES_MAX, {
      message: `at most ${SYNC_MATCHES_MAX} matches per sync`,
    }),
  limit: z.number().int().min(1).max(SYNC_PAGE_MAX).default(200),
});

export const typingRequest = z.object({ match_id: matchId, is_typing: z.boolean() });

export const readRequest = z.object({ match_id: matchId, seq: seq });

export type SyncRequest = z.input<typeof syncRequest>;
export type TypingRequest = z.input<typeof typingRequest>;
export type ReadRequest = z.input<typeof readRequest>;
export type ParsedSyncRequest = z.output<typeof syncRequest>;
export type ParsedTypingRequest = z.output<typeof typingRequest>;
export type ParsedReadRequest = z.output<typeof readRequest>;

/** `sync`'s answer. */
export const syncPage = z.object({
  /** Ordered by match, then seq. Expired secret messages are left out (their seqs are skipped). */
  messages: z.array(messageView),
  /** More messages are waiting: call `sync` again with the last seqs of this page. */
  has_more: z.boolean(),
});
export type SyncPage = z.infer<typeof syncPage>;

/** `read`'s answer: the caller's last read seq after this read (it never moves backwards). */
export const readAck = z.object({ last_read_seq: seq });

/** `typing` as the partner receives it. */
export interface TypingEvent {
  match_id: number;
  user_id: number;
  is_typing: boolean;
}

/** `read`: `user_id` has read `match_id` up to `seq` (inclusive). */
export interface ReadEvent {
  match_id: number;
  user_id: number;
  seq: number;
}

/**
 * `sync:needed`: this pod may have missed live events meant for the client (its Redis subscription
 * dropped and came back), so `message:new`s may be lost while the socket stayed up. The client
 * calls `sync` with its last seqs, after a random wait of up to `SYNC_NEEDED_SPREAD_MS` so that a
 * pod's clients do not all query at once.
 */
export interface SyncNeededEvent {
  reason: 'realtime_reconnected';
}

/** The longest a client waits, at random, before the `sync` that `sync:needed` asks for. */
export const SYNC_NEEDED_SPREAD_MS = 2_000;

export interface PresenceView {
  user_id: number;
  online: boolean;
  /** When the user's last socket went; null when never seen (or unknown). */
  last_seen_at: string | null;
}
