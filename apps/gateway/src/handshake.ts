import type { ExtendedError } from 'socket.io';
import { toAppError, type TokenService } from '@mm/core';
import type { GatewayServer } from './socket-server';

/**
 * Authenticates at the handshake: a missing, bad or expired token fails the connection with a
 * `connect_error` whose `data.code` says why.
 */
export function authenticateHandshake(io: GatewayServer, tokens: TokenService): void {
  io.use((socket, next) => {
    try {
      const token: unknown = socket.handshake.auth?.token;
      socket.data.userId = tokens.verify(typeof token === 'string' ? token : undefined);
      next();
    } catch (error) {
      const appError = toAppError(error);
      const refusal: ExtendedError = Object.assign(new Error(appError.message), {
        data: { code: appError.code },
      });
      next(refusal);
    }
  });
}
