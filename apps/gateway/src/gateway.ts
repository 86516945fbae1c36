import { userRoom, matchRoom } from '@mm/contract';
import { AppError, type ConnectingView, type Services, type SocketCap } from '@mm/core';
import { type Logger } from '@mm/platform';
import { authenticateHandshake, limitHandshakes, refusal } from './handshake';
import { clientEvents } from './events/client-events';
import { eventListeners, mountEvents } from './events/event-table';
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
  const releaseCap = capSocketsPerUser(io, services.connectionLimits.socketsPerUser);
  const listeners = eventListeners(clientEvents, { services, logger, inFlight });
  const presence = trackPresence(services, { logger, inFlight, isDraining });
  // Shared by every socket, with the socket as `this`: nothing per socket but the reference. The
  // cap's record is also what the presence heartbeat refreshes: released, the socket is not.
  function disconnected(this: GatewaySocket) {
    releaseCap(this);
    presence.disconnected(this);
  }
  io.on('connection', (socket) => {
    const rooms = matchRooms.get(socket) ?? [];
    matchRooms.delete(socket);
    socket.join([userRoom(socket.data.userId), ...rooms]);
    mountEvents(socket, listeners);
    // Read once, after the joins, for the unread total and the partners' presence alike.
    const view = inFlight.track(services.connecting.of(socket.data.userId));
    presence.connected(socket, view);
    socket.on('disconnect', disconnected);
    tellUnreadTotal(socket, view, logger);
  });
}

/**
 * The user's unread total, to this socket as it connects (later changes reach every socket of the
 * user from the domain). A failure costs the event only: the next change tells it again.
 */
function tellUnreadTotal(
  socket: GatewaySocket,
  view: Promise<ConnectingView>,
  logger: Logger,
): void {
  view.then(
    ({ unreadTotal }) => socket.emit('unread:total', { total: unreadTotal }),
    (error: unknown) =>
      logger.warn({ err: error, userId: socket.data.userId }, 'unread total not told'),
  );
}

/**
 * The last step of the handshake, so nothing can refuse the socket after it is counted: it is
 * released when it disconnects (the returned function, called on `disconnect`), or when its
 * connection closes before Socket.IO connected it.
 */
function capSocketsPerUser(io: GatewayServer, cap: SocketCap): (socket: GatewaySocket) => void {
  // The release of a connection that closes before it connects; dropped once connected.
  const beforeConnect = new WeakMap<GatewaySocket, () => void>();
  io.use((socket, next) => {
    const userId = socket.data.userId;
    try {
      cap.admit(userId, socket.id);
    } catch (error) {
      return next(refusal(error));
    }
    const release = () => cap.release(userId, socket.id);
    socket.conn.once('close', release);
    beforeConnect.set(socket, release);
    if (socket.conn.readyState !== 'open') release(); // closed meanwhile: it will not connect
    next();
  });
  io.on('connection', (socket) => {
    const release = beforeConnect.get(socket);
    beforeConnect.delete(socket);
    if (release) socket.conn.off('close', release);
  });
  return (socket) => cap.release(socket.data.userId, socket.id);
}

/**
 * Counts a socket as online while it is connected and tells it which partners are online. The
 * record of its coming online is kept only until it settles: a disconnect waits for it, so the
 * entry is never removed before it was written.
 */
function trackPresence(
  services: Services,
  {
    logger,
    inFlight,
    isDraining,
  }: { logger: Logger; inFlight: InFlight; isDraining: () => boolean },
) {
  const comingOnline = new WeakMap<GatewaySocket, Promise<void>>();
  return {
    connected(socket: GatewaySocket, view: Promise<ConnectingView>): void {
      const userId = socket.data.userId;
      const online = inFlight.track(services.presence.connected(userId, socket.id));
      comingOnline.set(socket, online);
      online
        .finally(() => {
          if (comingOnline.get(socket) === online) comingOnline.delete(socket);
        })
        .then(() => view)
        .then(({ partners }) => services.presence.presenceOf(partners))
        .then(
          (partners) => partners.forEach((presence) => socket.emit('presence', presence)),
          (error: unknown) => logger.warn({ err: error, userId }, 'presence not recorded'),
        );
    },
    disconnected(socket: GatewaySocket): void {
      // Moved off by a drain: the client reconnects to another pod well within the TTL, so its
      // partners see no offline-online flicker; the entry is left to expire (the cap released the
      // socket, so the heartbeat no longer refreshes it), and one that does not come back goes
      // offline then.
      if (isDraining()) return;
      const userId = socket.data.userId;
      const online = comingOnline.get(socket) ?? Promise.resolve();
      inFlight
        .track(online.then(() => services.presence.disconnected(userId, socket.id)))
        .catch((error: unknown) => logger.warn({ err: error, userId }, 'presence not recorded'));
    },
  };
}
