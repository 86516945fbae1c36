import { createAdapter } from '@socket.io/redis-adapter';
import { connectRedis, socketIoKey, type Logger } from '@mm/core';
import type { GatewayServer } from './socket-server';

/**
 * Shares rooms and broadcasts between gateway pods (and receives the API pods' emitter traffic).
 * The classic pub/sub adapter, not the sharded one: @socket.io/redis-emitter publishes with PUBLISH
 * only, which a sharded (SSUBSCRIBE) adapter never hears.
 */
export function useRedisAdapter(
  io: GatewayServer,
  redisUrl: string,
  prefix: string,
  logger: Logger,
) {
  const pub = connectRedis(redisUrl, 'gateway-adapter-pub', logger);
  const sub = connectRedis(redisUrl, 'gateway-adapter-sub', logger);
  io.adapter(createAdapter(pub, sub, { key: socketIoKey(prefix) }));
  return {
    async close(): Promise<void> {
      await Promise.all([pub.quit(), sub.quit()]);
    },
  };
}
