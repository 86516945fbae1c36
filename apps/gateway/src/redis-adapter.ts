import { createAdapter } from '@socket.io/redis-adapter';
import { socketIoKey } from '@mm/core';
import {
  connectRedis,
  quitRedis,
  type Logger,
  type Metrics,
  type RedisTimeouts,
} from '@mm/platform';
import type { GatewayServer } from './socket-server';

/**
 * Shares rooms and broadcasts between gateway pods (and receives the API pods' emitter traffic).
 * The classic pub/sub adapter, not the sharded one: @socket.io/redis-emitter publishes with PUBLISH
 * only, which a sharded (SSUBSCRIBE) adapter never hears. Connection errors are counted in `metrics`;
 * the connections are returned for the readiness check.
 *
 * Each time the subscriber is ready (again), this pod's sockets are asked to re-sync: Redis pub/sub
 * keeps nothing for a subscriber that is away, so whatever the other pods and the API published
 * while it reconnected (their offline queues flush on their own reconnect, often before this one
 * has re-subscribed) never reaches these sockets, which stayed connected and so do not sync by
 * themselves. See `askToResync`.
 */
export function useRedisAdapter(
  io: GatewayServer,
  { url, prefix, timeouts }: { url: string; prefix: string; timeouts?: RedisTimeouts },
  logger: Logger,
  metrics?: Metrics,
) {
  const pub = connectRedis(url, 'gateway-adapter-pub', logger, {
    onError: metrics?.redisErrorCounter('gateway-adapter-pub'),
    ...(timeouts && { timeouts }),
  });
  const sub = connectRedis(url, 'gateway-adapter-sub', logger, {
    subscriber: true,
    onError: metrics?.redisErrorCounter('gateway-adapter-sub'),
    ...(timeouts && { timeouts }),
  });
  io.adapter(createAdapter(pub, sub, { key: socketIoKey(prefix) }));
  sub.on('ready', () => {
    // ioredis re-subscribes on 'ready'; a PING queued behind those SUBSCRIBEs answers once they
    // are in force, so a sync that follows misses nothing published after it.
    void sub.ping().then(
      () => {
        const sockets = io.of('/').sockets.size;
        if (sockets > 0)
          logger.info({ sockets }, 'adapter subscribed again: sockets asked to sync');
        askToResync(io);
      },
      () => undefined, // the connection dropped again: the next 'ready' asks
    );
  });
  return {
    pub,
    sub,
    async close(): Promise<void> {
      await Promise.all([quitRedis(pub), sub.quit()]);
    },
  };
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
