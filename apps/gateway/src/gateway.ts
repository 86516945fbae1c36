import { userRoom, matchRoom } from '@mm/contract';
import { AppError, type Services, type SocketCap } from '@mm/core';
import { type Logger } from '@mm/platform';
import { authenticateHandshake, limitHandshakes, refusal } from './handshake';
import { clientEvents } from './events/client-events';
import { mountEvents } from './events/event-table';
import { InFlight } from './in-flight';
import type { GatewayServer, GatewaySocket } from './socket-server';

export type { GatewaySocket };

export interface GatewayDeps {
  services: Services;
  logger: Logger;
  /** Work a draining pod waits for (see GatewayDrain); one of its own when not given. */
  inFlight?: InFlight;
  /** True while the pod drains (`GatewayDrain.draining`): sockets it closes keep their presence. */
  isDraining?: () => boolean;
}

/**
 * Registers the handshake and the event handlers. A handshake is counted against its client
 * address, authenticated, admitted (not a deleted account), and counted against the user's sockets
 * on this process, in that order; each step refuses with a `connect_error` code. The match rooms are looked up before the
 * connection is accepted and joined in the same tick as the user room, before the client can see
 * `connect`: a client that syncs right after connecting then misses nothing, because every message
 * stored after its sync read reaches it live. A match created meanwhile reaches it through the user
 * room (`Realtime.joinMatch`). The socket is then counted as online and told which of its partners
 * are.
 */
export function registerGateway(
  io: GatewayServer,
  { services, logger, inFlight = new InFlight(), isDraining = () => false }: GatewayDeps,
): void {
  limitHandshakes(io, services.connectionLimits.handshakesPerIp, logger);
  authenticateHandshake(io, services.tokens);
  const matchRooms = new WeakMap<GatewaySocket, string[]>();
  io.use((socket, next) => {
    const userId = socket.data.userId;
    // A deleted account's token still verifies until it expires: refused here (ACCOUNT_DELETED).
    services.users.admitConnection(userId).then(
      (ids) => {
        matchRooms.set(socket, ids.map(matchRoom));
        next();
      },
      (error: unknown) => {
        if (error instanceof AppError) return next(refusal(error));
        logger.error({ err: error, userId }, 'could not load match rooms');
        next(refusal(new AppError('UNAVAILABLE', 'Try again shortly.')));
      },
    );
  });
  capSocketsPerUser(io, services.connectionLimits.socketsPerUser);
  const context = { logger, inFlight, isDraining };
  io.on('connection', (socket) => {
    const userId = socket.data.userId;
    socket.join([userRoom(userId), ...(matchRooms.get(socket) ?? [])]);
    mountEvents(socket, clientEvents, { services, logger, inFlight });
    trackPresence(socket, services, context);
    tellUnreadTotal(socket, services, context);
  });
}

/**
 * The user's unread total, to this socket as it connects (later changes reach every socket of the
 * user from the domain). A failure costs the event only: the next change tells it again.
 */
function tellUnreadTotal(
  socket: GatewaySocket,
  services: Services,
  { logger, inFlight }: { logger: Logger; inFlight: InFlight },
): void {
  const userId = socket.data.userId;
  inFlight.track(services.unread.of(userId)).then(
    (total) => socket.emit('unread:total', { total }),
    (error: unknown) => logger.warn({ err: error, userId }, 'unread total not told'),
  );
}

/**
 * The last step of the handshake, so nothing can refuse the socket after it is counted: it is
 * released when it disconnects, or when its connection closes before Socket.IO connected it.
 */
function capSocketsPerUser(io: GatewayServer, cap: SocketCap): void {
  io.use((socket, next) => {
    const userId = socket.data.userId;
    try {
      cap.admit(userId, socket.id);
    } catch (error) {
      return next(refusal(error));
    }
    const release = () => cap.release(userId, socket.id);
    socket.conn.once('close', release);
    socket.once('disconnect', () => {
      socket.conn.off('close', release);
      release();
    });
    if (socket.conn.readyState !== 'open') release(); // closed meanwhile: it will not connect
    next();
  });
}

/** Counts the socket as online while it is connected; tells it which partners are online. */
function trackPresence(
  socket: GatewaySocket,
  services: Services,
  {
    logger,
    inFlight,
    isDraining,
  }: { logger: Logger; inFlight: InFlight; isDraining: () => boolean },
): void {
  const userId = socket.data.userId;
  const online = inFlight.track(services.presence.connected(userId, socket.id));
  online
    .then(() => services.presence.partnersOf(userId))
    .then(
      (partners) => partners.forEach((presence) => socket.emit('presence', presence)),
      (error: unknown) => logger.warn({ err: error, userId }, 'presence not recorded'),
    );
  socket.on('disconnect', () => {
    // Moved off by a drain: the client is reconnecting elsewhere; let the entry expire instead.
    if (isDraining()) return services.presence.leaveToExpire(socket.id);
    inFlight
      .track(online.then(() => services.presence.disconnected(userId, socket.id)))
      .catch((error: unknown) => logger.warn({ err: error, userId }, 'presence not recorded'));
  });
}
