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
  PROFILE_REQUIRED: 409,
  PROFILE_NOT_APPROVED: 403,
  MATCH_NOT_ACTIVE: 409,
  NO_CANDIDATES: 404,
  DAILY_LIMIT_REACHED: 429,
  EXTENSION_LIMIT_REACHED: 409,
  SECRET_CHAT_NOT_REQUESTED: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_IMAGE: 400,
  PHOTO_LOCKED: 403,
  UNKNOWN_EVENT: 400,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

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
