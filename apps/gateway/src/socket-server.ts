import { ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Socket as TcpSocket } from 'node:net';
import { Server } from 'socket.io';
import { clientAddress } from '@mm/platform';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '@mm/contract';
import type { Socket } from 'socket.io';

export type GatewayServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

export type GatewaySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/** Frames above this are refused by Socket.IO before any handler sees them. */
export const MAX_FRAME_BYTES = 100_000;

export interface SocketServerOptions {
  /** Proxies in front that append to X-Forwarded-For (`TRUST_PROXY_HOPS`); 0 unless said. */
  trustProxyHops?: number;
  /** The other origins a browser app may connect from (`CORS_ORIGINS`); none unless said. */
  corsOrigins?: string[];
}

/**
 * A handshake from a browser page carries its `Origin`: the gateway's own (same host) or a listed
 * one may connect; any other is refused, not merely left without CORS headers, since a WebSocket
 * is not bound by CORS at all. No `Origin` (a native app, a server): not a browser page, allowed.
 * The Host header says which origin is the gateway's own, so a proxy in front must pass it on.
 */
export function originAllowed(request: IncomingMessage, corsOrigins: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || corsOrigins.includes(origin)) return true;
  const host = request.headers.host;
  try {
    const url = new URL(origin);
    // A proxy that passes nginx's `$host` drops the port: then the host name is what is known.
    return host !== undefined && (/:\d+$/.test(host) ? url.host : url.hostname) === host;
  } catch {
    return false;
  }
}

/** The client address of each Engine.IO connection, read from its first request. */
const addresses = new WeakMap<object, string>();

/** The client's address behind the trusted proxies, as the per-address limits count it. */
export function handshakeAddress(socket: { conn: object }): string | undefined {
  return addresses.get(socket.conn);
}

/**
 * The Socket.IO server with the wire contract's limits. Created before the domain services, which
 * use it as their broadcaster; the handlers are registered afterwards (`registerGateway`).
 */
export function createSocketServer(
  httpServer: HttpServer,
  { trustProxyHops = 0, corsOrigins = [] }: SocketServerOptions = {},
): GatewayServer {
  const io: GatewayServer = new Server(httpServer, {
    maxHttpBufferSize: MAX_FRAME_BYTES,
    pingTimeout: 20_000,
    pingInterval: 25_000,
    cors: { origin: corsOrigins, credentials: true },
    allowRequest: (request, callback) => {
      const allowed = originAllowed(request, corsOrigins);
      callback(allowed ? null : 'origin not allowed (CORS_ORIGINS)', allowed);
    },
  });
  // Engine.IO keeps each session's first HTTP request for the socket's lifetime: several KB per
  // idle socket. Nothing here reads it after the handshake (auth comes from `auth.token`, the
  // address is read here, once), so let it go, as Socket.IO's memory guide advises.
  io.engine.on('connection', (rawSocket: { request: IncomingMessage | null }) => {
    const request = rawSocket.request;
    const address =
      request &&
      clientAddress(
        request.socket.remoteAddress,
        request.headers['x-forwarded-for'],
        trustProxyHops,
      );
    if (address) addresses.set(rawSocket, address);
    rawSocket.request = null;
  });
  // Read by the handshake only (the per-address limit): forgotten once the socket is connected.
  io.on('connection', (socket) => addresses.delete(socket.conn));
  releaseUpgradeRequests(io);
  return io;
}

/**
 * Engine.IO answers a WebSocket upgrade through a stand-in response that holds the request, and
 * keeps that response until the connection closes (a `close` listener on the TCP socket): the
 * request's headers, raw headers and stream state, over 2 KB per idle socket (docs/benchmarks.md,
 * "Memory per idle socket"). Its headers are written once the middlewares ran (the `headers`
 * event); nothing reads the response's request after that, so it lets go of it there.
 */
function releaseUpgradeRequests(io: GatewayServer): void {
  const upgrades = new WeakMap<IncomingMessage, { req: IncomingMessage | null }>();
  io.engine.use((request: IncomingMessage, response: object, next: () => void) => {
    if (!(response instanceof ServerResponse) && 'req' in response) {
      upgrades.set(request, response as { req: IncomingMessage | null });
    }
    next();
  });
  io.engine.on('headers', (_headers: unknown, request: IncomingMessage) => {
    const response = upgrades.get(request);
    if (!response) return;
    upgrades.delete(request);
    response.req = null;
    writeOpeningTogether(request.socket);
  });
}

/**
 * The upgrade's 101 answer and Engine.IO's open packet are written in the same turn of the event
 * loop, each with a write of its own: held until the turn ends, they leave in one. Every write is
 * a send for the gateway and a read for the client (and for each proxy between, a read and a
 * send), which after a pod's death all of its clients pay at once (docs/design.md §5). Only an
 * accepted upgrade gets here (a refused one is answered and closed before `headers`).
 */
function writeOpeningTogether(socket: TcpSocket): void {
  socket.cork();
  setImmediate(() => socket.uncork());
}
