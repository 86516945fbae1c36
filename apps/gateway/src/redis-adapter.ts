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
  return {
    pub,
    sub,
    async close(): Promise<void> {
      await Promise.all([quitRedis(pub), sub.quit()]);
    },
  };
}
