import { z } from 'zod';
import { matchId, sendMessageRequest, userId } from './schemas.js';
import { text } from './text.js';
import { messageView, partnerView } from './wire.js';

/**
 * The match lifecycle after find-match: extend, end (unmatch, block), secret chat, report and
 * stats. A `user_id` in a body is optional (the seed API sent it); when given it must be the
 * token's subject.
 */

const self = { user_id: userId.optional() };

export const matchActionRequest = z.object({ ...self, match_id: matchId });

export const blockRequest = z.object({ ...self, blocked_user_id: userId });

export const reportReasons = [
  'spam',
  'harassment',
  'inappropriate',
  'fake_profile',
  'underage',
  'other',
] as const;

export const reportRequest = z.object({
  ...self,
  match_id: matchId,
  /** Optional; when given it must be the partner in that match. */
  reported_user_id: userId.optional(),
  /** The message reported, if one; it must belong to the match. */
  message_id: userId.optional(),
  reason: z.enum(reportReasons),
  details: text.trim().max(2000).optional(),
});

/** `POST /api/mystery/send-message`: the socket's `message:send` payload over REST. */
export const restSendMessageRequest = sendMessageRequest.extend(self);
export const sendMessageResponse = z.object({ message: messageView });

export const onlineStatusParams = z.object({ match_id: matchId, user_id: userId });

export type MatchActionRequest = z.input<typeof matchActionRequest>;
export type BlockRequest = z.input<typeof blockRequest>;
export type ReportRequest = z.input<typeof reportRequest>;
export type ParsedBlockRequest = z.output<typeof blockRequest>;
export type ParsedReportRequest = z.output<typeof reportRequest>;

const isoTimestamp = z.string().meta({ format: 'date-time' });

/** `account_restricted`: a moderator suspended or banned the partner (docs/design.md §3.12). */
export const matchEndReasons = ['expired', 'unmatched', 'blocked', 'account_restricted'] as const;
export type MatchEndReason = (typeof matchEndReasons)[number];

/** `match:ended`, to both users: the match is over and its room left. */
export const matchEndedEvent = z
  .object({ match_id: z.number().int(), reason: z.enum(matchEndReasons) })
  .meta({ id: 'MatchEndedEvent' });
export type MatchEndedEvent = z.infer<typeof matchEndedEvent>;

/** `match:extended`, to both users. */
export const matchExtendedEvent = z
  .object({
    match_id: z.number().int(),
    expires_at: isoTimestamp,
    extended_count: z.number().int(),
  })
  .meta({ id: 'MatchExtendedEvent' });
export type MatchExtendedEvent = z.infer<typeof matchExtendedEvent>;

/** `match:unlocked`, to each user with their own view: the chat crossed an unlock level. */
export const matchUnlockedEvent = z
  .object({ match_id: z.number().int(), level: z.number().int(), partner: partnerView })
  .meta({ id: 'MatchUnlockedEvent' });
export type MatchUnlockedEvent = z.infer<typeof matchUnlockedEvent>;

/** `secret_chat:requested` (with who asked) and `secret_chat:active`, to both users. */
export const secretChatEvent = z
  .object({ match_id: z.number().int(), requested_by: z.number().int() })
  .meta({ id: 'SecretChatEvent' });
export type SecretChatEvent = z.infer<typeof secretChatEvent>;

export const okResponse = z.object({ ok: z.literal(true) });

export const reportView = z
  .object({
    id: z.number().int(),
    match_id: z.number().int(),
    reported_user_id: z.number().int(),
    reason: z.enum(reportReasons),
    status: z.enum(['open', 'reviewing', 'resolved', 'dismissed']),
    /** How many messages were kept as evidence (at most 20). */
    evidence_count: z.number().int(),
    /** How often you filed it: a repeat within 24 hours, while it is open, folds into it. */
    repeat_count: z.number().int(),
    created_at: isoTimestamp,
  })
  .meta({ id: 'ReportView', description: 'A stored report, as its reporter sees it.' });
export const reportResponse = z.object({ report: reportView });
export type ReportView = z.infer<typeof reportView>;

export const userStats = z
  .object({
    user_id: z.number().int(),
    is_premium: z.boolean(),
    total_matches: z.number().int(),
    active_matches: z.number().int(),
    /** Messages in all the caller's matches, both sides'. */
    messages_exchanged: z.number().int(),
    matches_today: z.number().int(),
    /** Null for premium users: no limit. */
    daily_limit: z.number().int().nullable(),
    remaining_today: z.number().int().nullable(),
    /** When today's count starts again from zero (the next UTC midnight). */
    resets_at: isoTimestamp,
  })
  .meta({ id: 'UserStats', description: "The caller's match and message counts." });
export type UserStats = z.infer<typeof userStats>;

export const onlineStatus = z
  .object({
    user_id: z.number().int(),
    online: z.boolean(),
    last_seen_at: isoTimestamp.nullable(),
  })
  .meta({ id: 'OnlineStatus', description: "A match partner's presence." });
export type OnlineStatus = z.infer<typeof onlineStatus>;
