import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '@mm/client/contract';

export type GatewayServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/** Frames above this are refused by Socket.IO before any handler sees them. */
export const MAX_FRAME_BYTES = 100_000;

/**
 * The Socket.IO server with the wire contract's limits. Created before the domain services, which
 * use it as their broadcaster; the handlers are registered afterwards (`registerGateway`).
 */
export function createSocketServer(httpServer: HttpServer): GatewayServer {
  const io: GatewayServer = new Server(httpServer, {
    maxHttpBufferSize: MAX_FRAME_BYTES,
    pingTimeout: 20_000,
    pingInterval: 25_000,
    cors: { origin: true, credentials: true },
  });
  // Engine.IO keeps each session's first HTTP request for the socket's lifetime: several KB per
  // idle socket. Nothing here reads it after the handshake (auth comes from `auth.token`, the
  // address from the connection), so let it go, as Socket.IO's memory guide advises.
  io.engine.on('connection', (rawSocket: { request: unknown }) => {
    rawSocket.request = null;
  });
  return io;
}
