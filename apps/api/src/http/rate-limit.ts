import type { Request, RequestHandler, Response } from 'express';
import { AppError, clientAddress, type Logger, type RateLimiter } from '@mm/core';

/**
 * Takes one point of `limiter` for the request's key (no key: not limited), or answers 429
 * RATE_LIMITED with `Retry-After` (see the error handler). When the store itself fails (Redis
 * away), the request goes through and the failure is logged: a rate limit must not turn a Redis
 * outage into an API outage.
 */
export function rateLimit(
  limiter: RateLimiter | undefined,
  keyOf: (req: Request, res: Response) => string | number | undefined,
  logger: Logger,
): RequestHandler {
  return async (req, res, next) => {
    const key = limiter && keyOf(req, res);
    if (key === undefined) return next();
    try {
      await limiter!.consume(key);
    } catch (error) {
      if (error instanceof AppError) throw error;
      logger.warn(
        { err: error, limit: limiter!.limit.name },
        'rate limit store failed; not limiting',
      );
    }
    next();
  };
}

/**
 * The client's address behind `trustProxyHops` proxies: the rule socket handshakes are counted by
 * too (`clientAddress`), and the same as Express's `req.ip` with `trust proxy` set to the hops.
 */
export const clientIp =
  (trustProxyHops: number) =>
  (req: Request): string | undefined =>
    clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustProxyHops);

/** The authenticated caller, set by `authenticate()`; routes without a token have none. */
export const callerKey = (_req: Request, res: Response): number | undefined =>
  res.locals.userId as number | undefined;
