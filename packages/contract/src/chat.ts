import { z } from 'zod';
import { matchId, userId } from './schemas.js';
import { messageView } from './wire.js';

/**
 * The realtime chat's own requests and payloads (docs/design.md §4): replay (`sync`), typing, read
 * and delivery receipts, unsend, unread totals and presence. `message:send` lives in schemas.ts beside the REST send.
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

/** A receipt (`read`, `delivered`): the match and the highest seq it covers. */
export const receiptRequest = z.object({ match_id: matchId, seq: seq });
export const readRequest = receiptRequest;
export const deliveredRequest = receiptRequest;

/** `message:delete` and `DELETE /api/mystery/chat/{match_id}/messages/{seq}`: which message. */
export const deleteMessageRequest = z.object({ match_id: matchId, seq: userId });

export type SyncRequest = z.input<typeof syncRequest>;
export type TypingRequest = z.input<typeof typingRequest>;
export type ReadRequest = z.input<typeof readRequest>;
export type ParsedSyncRequest = z.output<typeof syncRequest>;
export type ParsedTypingRequest = z.output<typeof typingRequest>;
export type ParsedReadRequest = z.output<typeof readRequest>;
export type ReceiptRequest = z.input<typeof receiptRequest>;
export type ParsedReceiptRequest = z.output<typeof receiptRequest>;
export type DeliveredRequest = z.input<typeof deliveredRequest>;
export type DeleteMessageRequest = z.input<typeof deleteMessageRequest>;
export type ParsedDeleteMessageRequest = z.output<typeof deleteMessageRequest>;

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
/** `delivered`'s answer: the caller's last delivered seq after it (never backwards). */
export const deliveredAck = z.object({ last_delivered_seq: seq });
/** `message:delete`'s answer: the message's tombstone (`deleted: true`, `body: null`). */
export const deleteMessageResponse = z.object({ message: messageView });

/** `typing` as the partner receives it. */
export interface TypingEvent {
  match_id: number;
  user_id: number;
  is_typing: boolean;
}

/**
 * `read`: `user_id` has read `match_id` up to `seq` (inclusive); `message:delivered`: the messages
 * up to `seq` reached a device of `user_id`.
 */
export interface ReceiptEvent {
  match_id: number;
  user_id: number;
  seq: number;
}
export type ReadEvent = ReceiptEvent;
export type DeliveredEvent = ReceiptEvent;

/** `message:deleted`: the sender took back the message `seq` of `match_id`; drop its text. */
export interface MessageDeletedEvent {
  match_id: number;
  seq: number;
  /** The sender, who took it back. */
  user_id: number;
}

/**
 * Where a match's unread count stops: a client shows `99+` from here. A backlog of any size then
 * costs the server at most this many rows to count (docs/design.md §4.8).
 */
export const UNREAD_COUNT_CAP = 100;

/**
 * `unread:total`: the partner's messages the user has not read, over all their matches (expired
 * secret and deleted messages left out), each match's count stopping at `UNREAD_COUNT_CAP`. Sent
 * on connect and when it changes, at most about once a second while it keeps changing.
 */
export interface UnreadTotalEvent {
  total: number;
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
