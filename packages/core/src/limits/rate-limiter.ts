import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { AppError } from '../errors';

export interface RateLimit {
  /** Shown in keys and logs: `message`, `rest-ip`, ... */
  name: string;
  points: number;
  windowSeconds: number;
}

/**
 * A fixed-window limiter from rate-limiter-flexible: shared by every pod through Redis in scaled
 * mode, in process memory in the embedded default (one process is the whole service there).
 */
export class RateLimiter {
  private readonly limiter: RateLimiterAbstract;

  constructor(
    readonly limit: RateLimit,
    store: {
      redis?: Redis;
      keyPrefix: string;
      /** Fail at once (instead of waiting for a reconnect) while Redis is not connected. */
      failFast?: boolean;
    },
  ) {
    const options = {
      keyPrefix: `${store.keyPrefix}:rl:${limit.name}`,
      points: limit.points,
      duration: limit.windowSeconds,
    };
    this.limiter = store.redis
      ? new RateLimiterRedis({
          ...options,
          storeClient: store.redis,
          rejectIfRedisNotReady: store.failFast ?? false,
        })
      : new RateLimiterMemory(options);
  }

  /** Takes one point for `key`, or throws RATE_LIMITED with the seconds to wait. */
  async consume(key: string | number): Promise<void> {
    try {
      await this.limiter.consume(String(key));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection; // Redis itself failed
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError('RATE_LIMITED', 'Too many requests; slow down.', {
        retry_after: retryAfter,
      });
    }
  }
}
