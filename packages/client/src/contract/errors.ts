/**
 * Every error code the service answers with, and the HTTP status it travels under. Socket acks carry
 * the same `{ code, message, details }` object.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PROFILE_REQUIRED: 409,
  MATCH_NOT_ACTIVE: 409,
  NO_CANDIDATES: 404,
  DAILY_LIMIT_REACHED: 429,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
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
