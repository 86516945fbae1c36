import type { ExtendedError } from 'socket.io';
import { AppError, toAppError, type RateLimiter, type TokenService } from '@mm/core';
import { type Logger } from '@mm/platform';
import { handshakeAddress, type GatewayServer, type GatewaySocket } from './socket-server';

/** A refused handshake: the client's `connect_error` carries `data.code` (and `data.details`). */
export function refusal(error: unknown): ExtendedError {
  const appError = toAppError(error);
  return Object.assign(new Error(appError.message), {
    data: { code: appError.code, ...(appError.details && { details: appError.details }) },
  });
}

/**
 * Counts every handshake against its client address before anything else (so a flood of bad
 * tokens is limited too); over the limit: RATE_LIMITED with `details.retry_after`. When the store
 * fails (Redis away) the handshake goes through and it is logged, as for the REST limits.
 */
export function limitHandshakes(
  io: GatewayServer,
  limiter: RateLimiter | undefined,
  logger: Logger,
): void {
  if (!limiter) return;
  io.use((socket, next) => {
    const address = handshakeAddress(socket);
    if (address === undefined) return next();
    limiter.consume(address).then(
      () => next(),
      (error: unknown) => {
        if (error instanceof AppError) return next(refusal(error));
        logger.warn(
          { err: error, limit: limiter.limit.name },
          'rate limit store failed; not limiting',
        );
        next();
      },
    );
  });
}

/**
 * Every socket's `handshake` once its token was read: one shared, frozen record. Socket.IO builds
 * one per socket (a headers and a query object, the time as a string, the address) and keeps it
 * for the socket's life, for application code to read; the gateway reads nothing of it but
 * `auth.token`, here (the client address is read at the engine's connection, socket-server.ts, and
 * the logs name the user). Sharing one is why an idle socket of ours can keep less than one of
 * Socket.IO alone with no handlers (docs/benchmarks.md, "Memory per idle socket").
 */
const HANDSHAKE_READ: GatewaySocket['handshake'] = Object.freeze({
  headers: Object.freeze({}),
  time: '',
  address: '',
  xdomain: false,
  secure: false,
  issued: 0,
  url: '',
  query: Object.freeze({}),
  auth: Object.freeze({}),
});

/**
 * Authenticates at the handshake with the verifier REST uses: a missing, bad or expired token
 * fails the connection with a `connect_error` whose `data.code` says why; the socket keeps the
 * user id and role.
 */
export function authenticateHandshake(io: GatewayServer, tokens: TokenService): void {
  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth?.token;
    (socket as { handshake: GatewaySocket['handshake'] }).handshake = HANDSHAKE_READ;
    tokens.verify(typeof token === 'string' ? token : undefined).then(
      (principal) => {
        socket.data.userId = principal.userId;
        socket.data.role = principal.role;
        next();
      },
      (error: unknown) => next(refusal(error)),
    );
  });
}
