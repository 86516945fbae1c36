import { Redis } from 'ioredis';
import type { Logger } from '../logger';

/**
 * A Redis connection that retries forever with a capped backoff: a Redis restart must not take a
 * pod down, only make it unready until the connection is back. Commands issued in the same tick go
 * out as one pipeline (ioredis auto-pipelining): under load, one round trip carries many
 * publishes and counters. Pass `pipelining: false` for a subscriber connection.
 */
export function connectRedis(
  url: string,
  name: string,
  logger: Logger,
  {
    pipelining = true,
    onError,
  }: {
    pipelining?: boolean;
    /** Called on each connection error, e.g. to count it. */ onError?: () => void;
  } = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableAutoPipelining: pipelining,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    maxRetriesPerRequest: 3,
  });
  redis.on('error', (error) => {
    onError?.();
    logger.warn({ err: error, redis: name }, 'redis connection error');
  });
  return redis;
}

/**
 * Closes a connection after everything already issued on it has been answered. With
 * auto-pipelining a command issued just before `quit` may still wait for its pipeline to be
 * written; a PING queued behind it flushes that pipeline first.
 */
export async function quitRedis(redis: Redis): Promise<void> {
  await redis.ping().catch(() => undefined);
  await redis.quit();
}
