import { ZodError } from 'zod';
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '@mm/contract';

/** The one error the domain throws: a code from the contract, a message for people, details for code. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.details && { details: this.details }),
    };
  }

  toJSON(): { error: ErrorBody } {
    return { error: this.toBody() };
  }
}

/** Seconds a client is told to wait (`Retry-After`) when a dependency is unreachable. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/** The answer while PostgreSQL or Redis cannot be reached: retryable, and says when. */
export const dependencyUnavailable = () =>
  new AppError('UNAVAILABLE', 'A service we depend on is unreachable; try again shortly.', {
    retry_after: UNAVAILABLE_RETRY_AFTER_SECONDS,
  });

/**
 * PostgreSQL error classes (SQLSTATE) that say the database cannot serve now, not that the request
 * is wrong: connection exceptions (08), insufficient resources (53, e.g. too many connections), an
 * administrator or crash shutdown or a server still starting (57P01-57P03), a statement or idle
 * transaction cut by its timeout (57014, 25P03).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53...|57P0[123]|57014|25P03)$/;
/** Socket-level failures of a connection to PostgreSQL or Redis. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * What pg (a dead, timed-out or closed connection; no pool connection in time), ioredis (closed,
 * retries used up, command timeout) and rate-limiter-flexible (Redis not ready) throw when their
 * server is out of reach; they carry no code to test instead.
 */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Connection is closed|Command timed out|Reached the max retries per request limit|Stream isn't writeable|Redis connection is not ready)/;

/**
 * True when `error` says PostgreSQL or Redis is unreachable or too slow, rather than that the
 * request or our code is wrong: such a failure is answered UNAVAILABLE (503, retry), not INTERNAL.
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  // Read as a plain object: an error made in another realm (a vm context) is no `instanceof Error`.
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, name, message, cause } = error as Record<string, unknown>;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code)))
    return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  return isDependencyUnavailable(cause, depth + 1);
}

/**
 * Any thrown value as the error a client may see: validation failures name their fields; an
 * unreachable dependency becomes UNAVAILABLE with a wait; anything else unexpected becomes
 * INTERNAL, so no internal message leaks.
 */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDependencyUnavailable(error)) return dependencyUnavailable();
  if (error instanceof ZodError) {
    const fields = error.issues.map((issue) => ({
      field: issue.path.join('.'),
      message: issue.message,
    }));
    const names = fields.map((f) => f.field || '(body)').join(', ');
    return new AppError('VALIDATION_FAILED', `Invalid request: ${names}.`, { fields });
  }
  return new AppError('INTERNAL', 'Something went wrong on our side.');
}
