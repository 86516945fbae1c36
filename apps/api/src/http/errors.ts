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
    // A rate limit's wait, in seconds, also as the standard header.
    const retryAfter = appError.details?.retry_after;
    if (typeof retryAfter === 'number') res.set('Retry-After', String(retryAfter));
    res.status(appError.status).json(appError.toJSON());
  };
}

/** The Content-Encodings express.json() and express.raw() inflate. */
const ACCEPTED_ENCODINGS = ['identity', 'gzip', 'deflate', 'br'];

/**
 * A request Express could not read, as the client's mistake with our codes: what body-parser
 * reports with a `type` (malformed or oversized JSON, an unsupported charset or Content-Encoding),
 * a body that does not inflate or arrives short (body-parser marks those 4xx), and a path parameter
 * that is not valid percent-encoding (the router throws a URIError on decoding it).
 */
function fromBodyParser(error: unknown): AppError | undefined {
  if (error instanceof URIError) {
    return new AppError('VALIDATION_FAILED', 'A path parameter is not valid percent-encoding.');
  }
  const { type, status, expose, charset, encoding } = (error ?? {}) as {
    type?: unknown;
    status?: unknown;
    expose?: unknown;
    charset?: unknown;
    encoding?: unknown;
  };
  switch (type) {
    case 'entity.parse.failed':
      return new AppError('VALIDATION_FAILED', 'The body is not valid JSON.');
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'The body is too large.');
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the body in UTF-8.', {
        charset,
        accepted: ['utf-8'],
      });
    case 'encoding.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The Content-Encoding is not supported.', {
        encoding,
        accepted: ACCEPTED_ENCODINGS,
      });
  }
  // Everything else body-parser refuses (a broken gzip stream, a body shorter than its
  // Content-Length) is an http-errors 4xx it marks safe to show.
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
    return new AppError('VALIDATION_FAILED', 'The body could not be read.');
  }
  return undefined;
}
