import { z } from 'zod';
import { storable, text } from './text';

/**
 * Request schemas: the servers validate with them, the SDK's types come from them, and the OpenAPI
 * document is generated from them. Field names are snake_case on the wire.
 */

export const userId = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const matchId = userId;

export const userParams = z.object({ user_id: userId });
export const matchParams = z.object({ match_id: matchId });

export const genders = ['male', 'female', 'nonbinary'] as const;

export const devTokenRequest = z.object({ user_id: userId });

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
const age = z.coerce.number().int().min(18).max(120);

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

/** Find match: the caller and, optionally, who they are looking for. */
export const findMatchRequest = z
  .object({ user_id: userId, ...profileFilterFields })
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
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export type ProfileInput = z.input<typeof profileInput>;
export type FindMatchRequest = z.input<typeof findMatchRequest>;
export type SendMessageRequest = z.input<typeof sendMessageRequest>;
export type HistoryQuery = z.input<typeof historyQuery>;
