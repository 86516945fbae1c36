import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, toAppError, type Logger } from '@mm/core';

export const notFound: RequestHandler = (req) => {
  throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}.`);
};

/** Maps every error to the one error shape; logs what the client is not told. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const appError = toAppError(fromBodyParser(error) ?? error);
    if (appError.code === 'INTERNAL') logger.error({ err: error }, 'unhandled error');
    else if (appError !== error && appError.code === 'UNAVAILABLE')
      logger.warn({ err: error }, 'dependency unavailable');
    // A rate limit's or an outage's wait, in seconds, also as the standard header.
    const retryAfter = appError.details?.retry_after;
    if (typeof retryAfter === 'number') res.set('Retry-After', String(retryAfter));
    res.status(appError.status).json(appError.toJSON());
  };
}

/** express.json() reports malformed or oversized bodies with a `type`; turn those into our codes. */
function fromBodyParser(error: unknown): AppError | undefined {
  const type = (error as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed')
    return new AppError('VALIDATION_FAILED', 'The body is not valid JSON.');
  if (type === 'entity.too.large')
    return new AppError('PAYLOAD_TOO_LARGE', 'The body is too large.');
  return undefined;
}
