import { Redis } from 'ioredis';
import type { Logger } from '../logger';

/**
 * A Redis connection that retries forever with a capped backoff: a Redis restart must not take a
 * pod down, only make it unready until the connection is back.
 */
export function connectRedis(url: string, name: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    maxRetriesPerRequest: 3,
  });
  redis.on('error', (error) => logger.warn({ err: error, redis: name }, 'redis connection error'));
  return redis;
}
