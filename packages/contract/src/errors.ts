import { z } from 'zod';

/**
 * Every error code the service answers with, and the HTTP status it travels under. Socket acks carry
 * the same `{ code, message, details }` object.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ACCOUNT_DELETED: 410,
  ACCOUNT_SUSPENDED: 403,
  ACCOUNT_BANNED: 403,
  REPORT_NOT_OPEN: 409,
  PROFILE_NOT_PENDING: 409,
  CONTENT_REFUSED: 400,
  PROFILE_REQUIRED: 409,
  PROFILE_NOT_APPROVED: 403,
  MATCH_NOT_ACTIVE: 409,
  NO_CANDIDATES: 404,
  DAILY_LIMIT_REACHED: 429,
  EXTENSION_LIMIT_REACHED: 409,
  SECRET_CHAT_NOT_REQUESTED: 409,
  NOT_MESSAGE_SENDER: 403,
  UNSEND_WINDOW_CLOSED: 409,
  RATE_LIMITED: 429,
  TOO_MANY_CONNECTIONS: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_IMAGE: 400,
  PHOTO_LOCKED: 403,
  UNKNOWN_EVENT: 400,
  SIGNATURE_INVALID: 401,
  WEBHOOK_REPLAYED: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Codes that say "not now" rather than "no": the same request may succeed later, after
 * `details.retry_after` seconds when given (also `Retry-After` over REST), else after a backoff.
 * A server with a dependency down answers UNAVAILABLE; a limit, RATE_LIMITED.
 */
export const RETRYABLE_CODES: readonly ErrorCode[] = ['RATE_LIMITED', 'UNAVAILABLE'];

/**
 * What a `message:send` may be retried on: the retryable codes, and INTERNAL too, since a send is
 * idempotent by its `client_id` (a resend of a stored message is answered with the original).
 */
export const RETRYABLE_SEND_CODES: readonly ErrorCode[] = [...RETRYABLE_CODES, 'INTERNAL'];

/**
 * What each code means to a client and what its `details` carry: the source of docs/errors.md and
 * of the error list in the OpenAPI document. Typed over every code, so a new code cannot be added
 * without saying what it means.
 */
export const ERROR_DESCRIPTIONS: Record<ErrorCode, string> = {
  VALIDATION_FAILED:
    'A field of the path, query or body is missing or invalid (or the body is not JSON, does not ' +
    'decompress, or a path parameter is not valid percent-encoding). ' +
    '`details.fields` lists `{field, message}` for each.',
  UNAUTHENTICATED: 'No bearer token, or one that does not verify.',
  TOKEN_EXPIRED: 'The bearer token has expired: get a new one.',
  FORBIDDEN:
    "A `user_id` in the path, query or body is not the token's subject: you can only act as " +
    'yourself.',
  NOT_FOUND:
    'No such resource, or not one of yours: a match you are not part of is answered exactly as ' +
    'one that does not exist.',
  ACCOUNT_DELETED:
    'The caller deleted their account: its token still verifies, but no route answers it any ' +
    'more (reading or writing; deleting the account again is a no-op), and no socket may ' +
    'connect with it.',
  ACCOUNT_SUSPENDED:
    'A moderator suspended the account: no route answers it and no socket may connect with it ' +
    'until `details.until`.',
  ACCOUNT_BANNED:
    'A moderator banned the account: no route answers it and no socket may connect with it.',
  REPORT_NOT_OPEN:
    'Moderators only: the report was resolved or dismissed already; `details.status` says how.',
  PROFILE_NOT_PENDING:
    'Moderators only: the profile is not waiting for review (reviewed meanwhile, or deleted).',
  CONTENT_REFUSED:
    'The text holds a word the content filter refuses (`CONTENT_FILTER=refuse`); ' +
    '`details.field` names where.',
  PROFILE_REQUIRED: 'Create your profile (`PUT /api/users/me`) first.',
  PROFILE_NOT_APPROVED:
    'Your profile is not approved yet; `details.verification_status` says where it stands.',
  MATCH_NOT_ACTIVE:
    'The match has ended (expired, unmatched or blocked); `details.status` says how, when known.',
  NO_CANDIDATES: 'Nobody inside your filters is available right now; try again later.',
  DAILY_LIMIT_REACHED:
    'A free account started its matches for today; `details.limit` and `details.resets_at` (the ' +
    'next UTC midnight).',
  EXTENSION_LIMIT_REACHED: 'A free account may extend a match once; `details.extended_count`.',
  SECRET_CHAT_NOT_REQUESTED:
    'There is no pending secret-chat request that you may accept (the requester cannot accept ' +
    'their own).',
  NOT_MESSAGE_SENDER: "Only the sender may take a message back; this one is the partner's.",
  UNSEND_WINDOW_CLOSED:
    'The message is older than the unsend window; `details.window_seconds` says how long it is.',
  RATE_LIMITED:
    'Too many requests, messages or socket handshakes: wait `details.retry_after` seconds (also ' +
    'the `Retry-After` header over REST).',
  TOO_MANY_CONNECTIONS:
    'Socket handshake only: you already hold `details.limit` sockets on this server; close one ' +
    'before opening another.',
  PAYLOAD_TOO_LARGE:
    'The body (or socket frame, or photo) is too large; `details.max_bytes` when there is one ' +
    'limit to name.',
  UNSUPPORTED_MEDIA_TYPE:
    "The body's charset or Content-Encoding, or the upload's type, is not one accepted (a photo " +
    'is judged by the format its bytes decode as, not by its declared type); `details.accepted` ' +
    'lists those that are.',
  INVALID_IMAGE: 'The upload is empty or not a readable image.',
  PHOTO_LOCKED:
    "The partner's photo is not unlocked at this match's level yet; `details.level` and " +
    '`details.opens_at_level`.',
  UNKNOWN_EVENT: 'Socket only: the event name is not one the server handles.',
  SIGNATURE_INVALID:
    'Server-to-server webhooks only: the signature header is missing or malformed, its HMAC does ' +
    'not match the body, or its timestamp is more than 5 minutes away from our clock.',
  WEBHOOK_REPLAYED:
    'Server-to-server webhooks only: an event with this `event_id` was applied before; nothing ' +
    'was changed.',
  UNAVAILABLE:
    'Draining, or PostgreSQL or Redis is unreachable: retry shortly, after ' +
    '`details.retry_after` seconds when given (also the `Retry-After` header over REST).',
  INTERNAL:
    'Something went wrong on our side; nothing about it is disclosed. Safe to retry idempotent ' +
    'requests.',
};

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/** The shape of every REST error response. */
export interface ErrorResponse {
  error: ErrorBody;
}

/** The error object as a schema, for the OpenAPI document. */
export const errorResponse = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'ErrorResponse', description: 'The one error shape of every REST error.' });
