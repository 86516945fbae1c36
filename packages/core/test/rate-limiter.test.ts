import { Redis } from 'ioredis';
import { AppError } from '../src/errors';
import { RateLimiter } from '../src/limits/rate-limiter';
import { testRedisUrl, uniquePrefix } from './support/domain';

/** Consumes until refused; how many were allowed. */
async function allowedUntilRefused(limiter: RateLimiter, key: string, max: number) {
  for (let allowed = 0; allowed < max; allowed++) {
    try {
      await limiter.consume(key);
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('RATE_LIMITED');
      return allowed;
    }
  }
  return max;
}

describe('the rate limiter with leased points, on a real Redis', () => {
  let redis: Redis;
  const prefix = uniquePrefix('rate_limiter');
  const limit = { name: 'message', points: 20, windowSeconds: 60 };
  // Each limiter stands for one pod: its own leases, the shared count in Redis.
  const pod = (leaseSize: number) =>
    new RateLimiter(limit, { redis, keyPrefix: prefix, leaseSize });
  const counted = (key: string) => redis.get(`${prefix}:rl:message:${key}`).then(Number);

  beforeAll(() => {
    redis = new Redis(testRedisUrl);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(keys);
    redis.disconnect();
  });

  it('when one pod consumes, then exactly the limit is allowed, one round trip per lease', async () => {
    const limiter = pod(5);
    await limiter.consume('solo');
    expect(await counted('solo')).toBe(5); // one trip took 5 points; 4 are handed out from memory
    for (let i = 0; i < 4; i++) await limiter.consume('solo');
    expect(await counted('solo')).toBe(5);

    expect(await allowedUntilRefused(limiter, 'solo', 100)).toBe(15);
  });

  it('when refused, then retry_after says how long the window has left, and Redis is not asked again', async () => {
    const limiter = pod(5);
    await allowedUntilRefused(limiter, 'waits', 100);
    const countAtRefusal = await counted('waits');
    const refusal = await limiter.consume('waits').catch((error: AppError) => error);
    expect(await counted('waits')).toBe(countAtRefusal);
    expect(refusal).toBeInstanceOf(AppError);
    const retryAfter = (refusal as AppError).details?.retry_after;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('when the last lease would pass the limit, then the points left are still granted', async () => {
    const limiter = pod(6); // 20 = 6 + 6 + 6 + 2: the fourth trip is refused but grants 2
    expect(await allowedUntilRefused(limiter, 'tail', 100)).toBe(20);
  });

  it('when pods share a key, then together they never pass the limit and lose at most a lease each', async () => {
    const pods = [pod(5), pod(5), pod(5)];
    let allowed = 0;
    let refusedInARow = 0;
    // Round-robin one consume per pod until every pod is refused.
    for (let i = 0; refusedInARow < pods.length && i < 200; i++) {
      try {
        await pods[i % pods.length]!.consume('shared');
        allowed++;
        refusedInARow = 0;
      } catch {
        refusedInARow++;
      }
    }
    expect(allowed).toBeLessThanOrEqual(limit.points);
    expect(allowed).toBeGreaterThanOrEqual(limit.points - (pods.length - 1) * (5 - 1));
  });

  it('when consumes of one key run at once on a pod, then no leased point is lost', async () => {
    const limiter = pod(5);
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => limiter.consume('burst')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(limit.points);
  });

  it('when the limit is smaller than the lease, then the lease shrinks to the limit', async () => {
    const small = new RateLimiter(
      { name: 'message', points: 3, windowSeconds: 60 },
      { redis, keyPrefix: prefix, leaseSize: 10 },
    );
    expect(await allowedUntilRefused(small, 'small', 100)).toBe(3);
  });

  it('without Redis (the embedded default), then it counts exactly in memory', async () => {
    const memory = new RateLimiter(limit, { keyPrefix: prefix, leaseSize: 5 });
    expect(await allowedUntilRefused(memory, 'embedded', 100)).toBe(20);
  });
});
