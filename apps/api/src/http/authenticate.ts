import type { RequestHandler, Response } from 'express';
import { AppError, type TokenService } from '@mm/core';

/** Identity comes from the bearer token only; handlers read it with `callerId(res)`. */
export function authenticate(tokens: TokenService): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    res.locals.userId = tokens.verify(token);
    next();
  };
}

export function callerId(res: Response): number {
  const id = res.locals.userId as number | undefined;
  if (id === undefined) throw new Error('authenticate() must run before callerId()');
  return id;
}

/** A user id named in a path or body must be the caller's own: acting as someone else is 403. */
export function assertSelf(res: Response, claimedUserId: number): void {
  if (claimedUserId !== callerId(res)) {
    throw new AppError('FORBIDDEN', 'You can only act as yourself.');
  }
}
