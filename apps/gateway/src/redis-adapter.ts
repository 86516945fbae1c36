import { createAdapter } from '@socket.io/redis-adapter';
import { connectRedis, quitRedis, socketIoKey, type Logger, type Metrics } from '@mm/core';
import type { GatewayServer } from './socket-server';

/**
 * Shares rooms and broadcasts between gateway pods (and receives the API pods' emitter traffic).
 * The classic pub/sub adapter, not the sharded one: @socket.io/redis-emitter publishes with PUBLISH
 * only, which a sharded (SSUBSCRIBE) adapter never hears. Connection errors are counted in `metrics`;
 * the connections are returned for the readiness check.
 */
export function useRedisAdapter(
  io: GatewayServer,
  redisUrl: string,
  prefix: string,
  logger: Logger,
  metrics?: Metrics,
) {
  const pub = connectRedis(redisUrl, 'gateway-adapter-pub', logger, {
    onError: metrics?.redisErrorCounter('gateway-adapter-pub'),
  });
  const sub = connectRedis(redisUrl, 'gateway-adapter-sub', logger, {
    pipelining: false,
    onError: metrics?.redisErrorCounter('gateway-adapter-sub'),
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
