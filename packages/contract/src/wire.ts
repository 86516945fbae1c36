import { z } from 'zod';
import type { ErrorBody } from './errors.js';
import { genders } from './schemas.js';

/**
 * Wire shapes of what the servers answer and emit, as zod schemas: the types below are inferred
 * from them, and the OpenAPI document describes responses with them (`meta.id` names the
 * component). Timestamps are ISO-8601 strings.
 */

const isoTimestamp = z.string().meta({ format: 'date-time' });

export const profileView = z
  .object({
    id: z.number().int(),
    display_name: z.string(),
    gender: z.enum(genders).nullable(),
    birth_date: z.string().nullable(),
    city: z.string().nullable(),
    interests: z.array(z.string()),
    bio: z.string().nullable(),
    photo_url: z.string().nullable(),
    is_premium: z.boolean(),
    verification_status: z.enum(['pending', 'approved', 'rejected']),
    /** Why a moderator rejected the profile; null unless rejected. */
    verification_note: z.string().nullable(),
    created_at: isoTimestamp,
  })
  .meta({ id: 'ProfileView', description: "The caller's own profile." });
export type ProfileView = z.infer<typeof profileView>;

export const matchStatuses = ['active', 'expired', 'unmatched', 'blocked'] as const;

/**
 * Total messages in a match at which each unlock level opens (docs/design.md §3.4).
 * A level needs both people: it opens when the total reaches its threshold AND each side has
 * written at least a quarter of it (`unlockShareAt`: 5, 15, 25 and 38 messages), so one side
 * writing 150 messages alone unlocks nothing.
 */
export const UNLOCK_THRESHOLDS = [0, 20, 60, 100, 150] as const;
export const FULL_UNLOCK_LEVEL = 4;

/** The messages each side must have written for `level` to open: a quarter of its threshold. */
export const unlockShareAt = (level: number): number =>
  Math.ceil((UNLOCK_THRESHOLDS[level] ?? 0) / 4);

/**
 * The partner as the viewer may see them at their unlock level. A field above the level is absent,
 * never null-filled from the profile: level 1 adds age and city, 2 a 50 % blurred photo, 3 the
 * interests, the bio and a 25 % blurred photo, 4 everything with the clear photo. A premium
 * viewer is at level 4 from the start.
 *
 * Once a match ends by block or unmatch, the partner is withdrawn from both sides for good:
 * level 0, "Mystery User", no other field and `next_level_at` null, whatever level was reached
 * or whoever is premium; the partner-photo endpoint answers 404 and the partner's presence is
 * `online: false, last_seen_at: null`. A match that expired keeps the view its level reached.
 */
export const partnerView = z
  .object({
    level: z.number().int().min(0).max(FULL_UNLOCK_LEVEL),
    /**
     * The match's total message count at which the next level can open at the earliest (each
     * side also needs its share, so it may lie beyond the threshold); null at level 4 and once the
     * partner is withdrawn (block or unmatch).
     */
    next_level_at: z.number().int().nullable(),
    /** "Mystery User" below level 4. */
    display_name: z.string(),
    age: z.number().int().nullable().optional(),
    city: z.string().nullable().optional(),
    /**
     * From level 2: the match's partner-photo endpoint, which renders the blur of the viewer's
     * level; the clear photo's own address appears only at level 4. Null when there is no photo.
     */
    photo_url: z.string().nullable().optional(),
    /** Percent of blur of the photo behind `photo_url`: 50 at level 2, 25 at level 3. */
    photo_blur: z.number().int().optional(),
    interests: z.array(z.string()).optional(),
    bio: z.string().nullable().optional(),
    gender: z.enum(genders).nullable().optional(),
  })
  .meta({ id: 'PartnerView', description: 'The match partner, as far as the chat unlocked them.' });
export type PartnerView = z.infer<typeof partnerView>;

/**
 * The last message of a match, for a match list: masked as the chat masks it, null `body` when it
 * was taken back. An expired secret message is never one (the one before it is shown).
 */
export const messagePreview = z
  .object({
    seq: z.number().int(),
    sender_id: z.number().int().nullable(),
    body: z.string().nullable(),
    is_secret: z.boolean(),
    deleted: z.boolean(),
    created_at: isoTimestamp,
  })
  .meta({ id: 'MessagePreview', description: "A match's last message, for the match list." });
export type MessagePreview = z.infer<typeof messagePreview>;

export const matchView = z
  .object({
    id: z.number().int(),
    partner_id: z.number().int(),
    status: z.enum(matchStatuses),
    created_at: isoTimestamp,
    expires_at: isoTimestamp,
    message_count: z.number().int(),
    /** Extensions so far; a free user may extend a match only while this is 0. */
    extended_count: z.number().int(),
    secret_chat: z.enum(['none', 'requested', 'active']),
    /** Who asked for the secret chat; only the other side may accept. */
    secret_requested_by: z.number().int().nullable(),
    /** The viewer's last read seq (read receipts): 0 before they read anything. */
    last_read_seq: z.number().int(),
    /** The viewer's last delivered seq (delivery receipts): 0 before anything reached them. */
    last_delivered_seq: z.number().int(),
    /**
     * The partner's read and delivered watermarks, for the sender's marks (✓ delivered, ✓✓ read).
     * Absent once the match ended by block or unmatch: receipts no longer cross then.
     */
    partner_last_read_seq: z.number().int().optional(),
    partner_last_delivered_seq: z.number().int().optional(),
    /**
     * The partner's messages after `last_read_seq`, counted up to `UNREAD_COUNT_CAP` (100);
     * present in `my-matches`.
     */
    unread_count: z.number().int().optional(),
    /** The match's last message as the chat shows it; present in `my-matches`, null when none. */
    last_message: messagePreview.nullable().optional(),
    partner: partnerView,
  })
  .meta({ id: 'MatchView', description: 'A match as one of its two participants sees it.' });
export type MatchView = z.infer<typeof matchView>;

export const messageView = z
  .object({
    id: z.number().int(),
    match_id: z.number().int(),
    seq: z.number().int(),
    /** Null once the sender deleted their account. */
    sender_id: z.number().int().nullable(),
    client_id: z.string(),
    /** Null when the sender took the message back (`deleted`): its text is gone everywhere. */
    body: z.string().nullable(),
    is_secret: z.boolean(),
    created_at: isoTimestamp,
    /**
     * The sender took it back (`message:delete`): a tombstone that keeps its seq, so the chat has
     * no gap. A client shows "message deleted" in its place.
     */
    deleted: z.boolean(),
  })
  .meta({ id: 'MessageView', description: 'A stored chat message, or the tombstone of one.' });
export type MessageView = z.infer<typeof messageView>;

export const historyPage = z
  .object({
    messages: z.array(messageView),
    /** Pass as `before` to read the next (older) page; null at the start of the chat. */
    next_cursor: z.number().int().nullable(),
    has_more: z.boolean(),
  })
  .meta({ id: 'HistoryPage', description: 'A page of chat history, oldest first.' });
export type HistoryPage = z.infer<typeof historyPage>;

export const matchResponse = z.object({ match: matchView });
export const matchListResponse = z.object({ matches: z.array(matchView) });
export const tokenResponse = z.object({ token: z.string() });

/** A user's premium state after a grant or revocation. */
export const premiumState = z.object({
  user_id: z.number(),
  is_premium: z.boolean(),
  premium_until: z.string().nullable(),
});

/** Every ack: success with a payload, or the same error object REST answers with. */
export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
