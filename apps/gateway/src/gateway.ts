import type { Socket } from 'socket.io';
import {
  userRoom,
  matchRoom,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SocketData,
} from '@mm/client/contract';
import type { Logger, Services } from '@mm/core';
import { authenticateHandshake } from './handshake';
import { registerMessageHandlers } from './handlers/message.handlers';
import type { GatewayServer } from './socket-server';

export type GatewaySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

export interface GatewayDeps {
  services: Services;
  logger: Logger;
}

/**
 * Registers the handshake and the event handlers. A socket joins its user room first, then the rooms
 * of its active matches: a match created meanwhile reaches it through the user room
 * (`Realtime.joinMatch`), so no ordering of the two can leave it outside.
 */
export function registerGateway(io: GatewayServer, { services, logger }: GatewayDeps): void {
  authenticateHandshake(io, services.tokens);
  io.on('connection', (socket) => {
    const userId = socket.data.userId;
    socket.join(userRoom(userId));
    registerMessageHandlers(socket, services, logger);
    services.matches.activeMatchIds(userId).then(
      (ids) => socket.join(ids.map(matchRoom)),
      (error: unknown) => {
        logger.error({ err: error, userId }, 'could not join match rooms');
        socket.disconnect(true);
      },
    );
  });
}
