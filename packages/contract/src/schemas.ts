import { z } from 'zod';
import { storable, text } from './text.js';

/**
 * Request schemas: the servers validate with them, the SDK's types come from them, and the OpenAPI
 * document is generated from them. Field names are snake_case on the wire.
 */

/**
 * A number sent as JSON or as a path or query string, as `z.coerce.number()` reads it, except that
 * a missing one reads "required" (coercion alone turns it into NaN: "expected number, received
 * NaN"). Build every numeric request field from it.
 */
export const requestNumber = z.number({
  error: (issue) => (issue.input === undefined ? 'required' : undefined),
});
export const coerced = <T extends z.ZodType<number, number>>(schema: T) =>
  z.preprocess((value) => (value === undefined ? value : Number(value)), schema);

export const userId = coerced(requestNumber.int().positive().max(Number.MAX_SAFE_INTEGER));
export const matchId = userId;

export const userParams = z.object({ user_id: userId });
export const matchParams = z.object({ match_id: matchId });

export const genders = ['male', 'female', 'nonbinary'] as const;

export const roles = ['user', 'moderator', 'admin'] as const;

/** `role` is put in the token as its `role` claim (development tokens only). */
export const devTokenRequest = z.object({ user_id: userId, role: z.enum(roles).optional() });

/** A premium grant until an instant (ISO 8601 with offset), or `null`: revoked. */
const premiumUntil = z.iso.datetime({ offset: true }).nullable();

/** `PUT /api/admin/users/{user_id}/premium`. */
export const premiumGrant = z.object({ until: premiumUntil });

/** `POST /api/webhooks/entitlements`: what a billing system says of one user. */
export const entitlementEvent = z.object({
  /** The sender's id of this event: a second delivery of it is refused as a replay. */
  event_id: z.string().min(1).max(200),
  user_id: userId,
  until: premiumUntil,
});

/** `DELETE /api/users/delete-account`: `user_id` (query or body) is optional; if given, the caller's. */
export const accountDeletionRequest = z.object({ user_id: userId.optional() });

export const profileInput = z.object({
  display_name: text.trim().min(1).max(50),
  gender: z.enum(genders).nullish(),
  birth_date: z.iso.date().nullish(),
  city: text.trim().min(1).max(100).nullish(),
  interests: z.array(text.trim().min(1).max(40)).max(20).default([]),
  bio: text.trim().max(500).nullish(),
  photo_url: storable(z.url({ protocol: /^https?$/ }).max(2048)).nullish(),
});

/** Age in whole years, for the find-match filters. */
const age = coerced(requestNumber.int().min(18).max(120));

/**
 * Who the caller is looking for: the find-match filters, shared with profile discovery. Every
 * filter narrows the candidates; `interests` keeps those who share at least one.
 */
export const profileFilterFields = {
  gender: z.enum(genders).optional(),
  min_age: age.optional(),
  max_age: age.optional(),
  city: text.trim().min(1).max(100).optional(),
  interests: z.array(text.trim().min(1).max(40)).min(1).max(20).optional(),
};

/** An age range must not be upside down; the error names `min_age`. */
export const ageRangeInOrder: [
  (r: { min_age?: number | undefined; max_age?: number | undefined }) => boolean,
  { message: string; path: string[] },
] = [
  (r) => r.min_age === undefined || r.max_age === undefined || r.min_age <= r.max_age,
  { message: 'must not be above max_age', path: ['min_age'] },
];

/**
 * Find match: optionally who the caller is looking for. `user_id` is optional (the seed API sent
 * it; identity comes from the token); when given it must be the caller's.
 */
export const findMatchRequest = z
  .object({ user_id: userId.optional(), ...profileFilterFields })
  .refine(...ageRangeInOrder);

/** What a message body may be: 1 to 4000 characters once trimmed. */
export const messageBody = text.trim().min(1).max(4000);
/** Chosen by the client, once per message: the same id again means a resend. */
export const clientMessageId = text.min(1).max(64);

export const sendMessageRequest = z.object({
  match_id: matchId,
  client_id: clientMessageId,
  body: messageBody,
});

export const historyQuery = z.object({
  /** Return messages with seq below this cursor (the `next_cursor` of the previous page). */
  before: coerced(requestNumber.int().positive()).optional(),
  limit: coerced(requestNumber.int().min(1).max(100)).default(50),
});

export type ProfileInput = z.input<typeof profileInput>;
export type FindMatchRequest = z.input<typeof findMatchRequest>;
export type SendMessageRequest = z.input<typeof sendMessageRequest>;
export type HistoryQuery = z.input<typeof historyQuery>;

/**
 * What a request is once an edge parsed it (defaults filled in, strings trimmed, ids numbers): the
 * types the core services take. The `*Request` types above are what a client may send.
 */
export type ParsedProfileInput = z.output<typeof profileInput>;
export type ParsedFindMatchRequest = z.output<typeof findMatchRequest>;
export type ParsedSendMessageRequest = z.output<typeof sendMessageRequest>;
export type ParsedHistoryQuery = z.output<typeof historyQuery>;
