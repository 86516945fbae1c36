import {
  attachRoomAdapter,
  type Logger,
  type Metrics,
  type RedisSettings,
  type RoomAdapterMode,
} from '@mm/platform';
import type { GatewayServer } from './socket-server';

/**
 * Shares rooms and broadcasts with the other gateway pods and the API pods (`attachRoomAdapter`,
 * sharded pub/sub unless `settings.adapter` says `classic`). Connection errors are counted in
 * `metrics`; the connections are returned for the readiness check.
 *
 * Each time the subscriptions are in force again after a drop, this pod's sockets are asked to
 * re-sync: Redis pub/sub keeps nothing for a subscriber that is away, so whatever the other pods
 * and the API published while it reconnected (their offline queues flush on their own reconnect,
 * often before this one has re-subscribed) never reaches these sockets, which stayed connected and
 * so do not sync by themselves. See `askToResync`.
 */
export function useRedisAdapter(
  io: GatewayServer,
  settings: RedisSettings & { adapter?: RoomAdapterMode },
  logger: Logger,
  metrics?: Metrics,
) {
  return attachRoomAdapter(io, { adapter: 'sharded', ...settings }, logger, {
    name: 'gateway-adapter',
    ...(metrics && { metrics }),
    onResubscribed() {
      const sockets = io.of('/').sockets.size;
      if (sockets > 0) logger.info({ sockets }, 'adapter subscribed again: sockets asked to sync');
      askToResync(io);
    },
  });
}

/**
 * Tells this pod's own sockets (`io.local`, not through the adapter: the other pods' subscribers
 * did not drop) that live events may have been lost: `sync:needed`. Each client syncs after a
 * random wait of up to SYNC_NEEDED_SPREAD_MS, so a pod with thousands of sockets does not send
 * thousands of sync queries to PostgreSQL in the same instant, right when Redis came back.
 */
export function askToResync(io: GatewayServer): void {
  io.local.emit('sync:needed', { reason: 'realtime_reconnected' });
}
