import type { RedisClient } from '../redis-client';
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

/** Points a process took from the shared count at once, handed out from memory. */
interface Lease {
  remaining: number;
  /** When the shared window ends (epoch ms): what is left of the lease is void then. */
  expiresAt: number;
  /** The shared count is used up until `expiresAt`: refuse without asking Redis. */
  exhausted: boolean;
}

const CONSUMED: Promise<void> = Promise.resolve();

const refusal = (msLeft: number) =>
  new AppError('RATE_LIMITED', 'Too many requests; slow down.', {
    retry_after: Math.max(1, Math.ceil(msLeft / 1000)),
  });

/**
 * A fixed-window limiter from rate-limiter-flexible: shared by every pod through Redis in scaled
 * mode, in process memory in the embedded default (one process is the whole service there).
 *
 * With `leaseSize` above 1, a process takes that many points from Redis in one round trip and
 * hands them out from memory, so a busy key costs one round trip per `leaseSize` consumes instead
 * of one each (rate-limiter-flexible has no such mode; this builds it on its `consume(key, n)`).
 * Nothing is ever allowed past the limit: every point handed out was counted in Redis first. The
 * price is the other way: points a process leased and did not use are lost when the window ends,
 * so a key used from several processes in one window may be refused up to `leaseSize - 1` points
 * early per other process.
 */
export class RateLimiter {
  private readonly limiter: RateLimiterAbstract;
  private readonly leaseSize: number;
  private readonly leases = new Map<string, Lease>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private nextSweepAt = 0;

  constructor(
    readonly limit: RateLimit,
    store: {
      redis?: RedisClient;
      keyPrefix: string;
      /** Fail at once (instead of waiting for a reconnect) while Redis is not connected. */
      failFast?: boolean;
      /** Points leased per round trip to Redis (1: every consume asks Redis). */
      leaseSize?: number;
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
    // In memory a consume costs no round trip: nothing to save by leasing.
    this.leaseSize = store.redis ? Math.max(1, Math.min(store.leaseSize ?? 1, limit.points)) : 1;
  }

  /** Takes one point for `key`, or rejects with RATE_LIMITED and the seconds to wait. */
  consume(key: string | number): Promise<void> {
    const id = String(key);
    if (this.leaseSize === 1) return this.consumeOne(id);
    // A point left in a live lease is handed out without an async frame: under load that is
    // nearly every message's consume.
    const lease = this.leases.get(id);
    if (lease && lease.remaining > 0 && lease.expiresAt > Date.now()) {
      lease.remaining--;
      return CONSUMED;
    }
    return this.consumeLeased(id);
  }

  private async consumeLeased(id: string): Promise<void> {
    for (;;) {
      const now = Date.now();
      const lease = this.leases.get(id);
      if (lease && lease.expiresAt > now) {
        if (lease.remaining > 0) {
          lease.remaining--;
          return;
        }
        if (lease.exhausted) throw refusal(lease.expiresAt - now);
      }
      // One trip per key at a time: a burst waits for the lease in flight instead of each
      // taking (and mostly stranding) a lease of its own.
      const inFlight = this.inFlight.get(id);
      if (inFlight) {
        await inFlight.catch(() => undefined);
        continue;
      }
      const trip = this.takeLease(id, now).finally(() => this.inFlight.delete(id));
      this.inFlight.set(id, trip);
      return trip;
    }
  }

  private async consumeOne(id: string): Promise<void> {
    try {
      await this.limiter.consume(id);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection; // Redis itself failed
      throw refusal(rejection.msBeforeNext);
    }
  }

  /** Takes up to `leaseSize` points from the shared count: one for the caller, the rest kept. */
  private async takeLease(id: string, now: number): Promise<void> {
    let granted = this.leaseSize;
    let windowLeftMs: number;
    try {
      windowLeftMs = (await this.limiter.consume(id, this.leaseSize)).msBeforeNext;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection; // Redis itself failed
      windowLeftMs = rejection.msBeforeNext;
      // The count includes this request's points: what was left before it is still ours.
      granted = Math.min(
        this.leaseSize,
        this.limit.points - (rejection.consumedPoints - this.leaseSize),
      );
    }
    this.sweep(now);
    this.leases.set(id, {
      remaining: Math.max(0, granted - 1),
      expiresAt: now + windowLeftMs,
      exhausted: granted < this.leaseSize,
    });
    if (granted <= 0) throw refusal(windowLeftMs);
  }

  /** Drops expired leases, at most once a window, so idle keys do not pile up in memory. */
  private sweep(now: number): void {
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + this.limit.windowSeconds * 1000;
    for (const [id, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(id);
  }
}
