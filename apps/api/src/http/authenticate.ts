import type { RequestHandler, Response } from 'express';
import { AppError, hasRole, type Principal, type Role, type TokenService } from '@mm/core';

/** Identity comes from the bearer token only; handlers read it with `callerId(res)`. */
export function authenticate(tokens: TokenService): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const principal = await tokens.verify(token);
    res.locals.principal = principal;
    res.locals.userId = principal.userId;
    next();
  };
}

export function callerId(res: Response): number {
  const id = res.locals.userId as number | undefined;
  if (id === undefined) throw new Error('authenticate() must run before callerId()');
  return id;
}

export function caller(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (principal === undefined) throw new Error('authenticate() must run before caller()');
  return principal;
}

/** A user id named in a path or body must be the caller's own: acting as someone else is 403. */
export function assertSelf(res: Response, claimedUserId: number): void {
  if (claimedUserId !== callerId(res)) {
    throw new AppError('FORBIDDEN', 'You can only act as yourself.');
  }
}

/** A route for moderators or admins: a caller below `role` is 403. */
export function assertRole(res: Response, role: Role): void {
  if (!hasRole(caller(res).role, role)) {
    throw new AppError('FORBIDDEN', `This needs the ${role} role.`);
  }
}
