import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { PRESENCE_BUCKETS, RateLimiter, RedisPresenceStore, RedisScoreCache } from '@mm/core';
import { attachRoomAdapter, connectRedis, createLogger } from '@mm/platform';
import { eventually } from '@mm/test-support/http';
import { TestRedisCluster } from '@mm/test-support/redis-cluster';
import { Server } from 'socket.io';

/**
 * The domain's Redis stores on a real three-master Redis Cluster (docs/design.md §5): presence
 * with its sweep, the score cache and the shared rate limits. The apps over a cluster are run by
 * the cross-pod system tests (realtime, match lifecycle).
 */
describe('the Redis stores on a Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let redis: Cluster;
  const prefix = () => `mmtest:cluster:${randomBytes(4).toString('hex')}`;
  const logger = createLogger({ level: 'silent', name: 'test' });

  beforeAll(async () => {
    cluster = await TestRedisCluster.start();
    redis = connectRedis({ url: cluster.url, cluster: true }, 'cluster-test', logger) as Cluster;
  }, 60_000);

  afterAll(async () => {
    await redis?.quit();
    await cluster?.stop();
  });

  /** How many keys with `keyPrefix` each master holds. */
  async function keysPerShard(keyPrefix: string): Promise<number[]> {
    return Promise.all(
      redis.nodes('master').map(async (node) => (await node.keys(`*${keyPrefix}*`)).length),
    );
  }

  it('when a pod stops refreshing, then each of its users, spread over every shard, is claimed by exactly one sweeper', async () => {
    const keyPrefix = prefix();
    const ttlMs = 1_000;
    const podA = new RedisPresenceStore(redis, keyPrefix, ttlMs);
    const podB = new RedisPresenceStore(redis, keyPrefix, ttlMs);
    const users = Array.from({ length: 2 * PRESENCE_BUCKETS }, (_, i) => i + 1);
    const start = Date.now();
    // One heartbeat slice over every bucket, a script on each bucket's shard: each user came online.
    const entries = users.map((userId) => ({ userId, member: `dead:${userId}` }));
    const came = await podA.addMany(entries, start + ttlMs, start);
    expect(came.sort((a, b) => a - b)).toEqual(users);
    await podB.add(1, 'live:1', start + 10 * ttlMs, start); // user 1 is on a live pod too
    expect((await keysPerShard(keyPrefix)).every((count) => count > 0)).toBe(true);

    const later = start + 2 * ttlMs;
    expect(await podB.isOnline([1, 2], later)).toEqual([true, false]);
    const swept = (await Promise.all([podA.sweep(later, ttlMs), podB.sweep(later, ttlMs)])).flat();
    expect(swept.map((d) => d.userId).sort((x, y) => x - y)).toEqual(users.slice(1));
    expect(swept.every((d) => d.lastSeenAt.getTime() === start)).toBe(true);
    expect(await podA.sweep(later, ttlMs)).toEqual([]);
    expect(await podB.remove(1, 'live:1', later)).toBe(true);
  });

  it('when scores of pairs on many slots are cached, then they are read back in one call', async () => {
    const cache = new RedisScoreCache(redis, { keyPrefix: prefix(), timeoutMs: 2_000 });
    const others = Array.from({ length: 20 }, (_, i) => i + 2);
    await cache.set(1, new Map(others.map((id) => [id, id * 10])));
    expect(await cache.get(1, [...others, 99])).toEqual([
      ...others.map((id) => id * 10),
      undefined,
    ]);
  });

  it('when pods share a rate limit on the cluster, then the points are counted once across them', async () => {
    const limit = { name: 'cluster', points: 5, windowSeconds: 60 };
    const keyPrefix = prefix();
    const pods = [0, 1].map(() => new RateLimiter(limit, { redis, keyPrefix }));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => pods[i % 2]!.consume('user-1')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
  });

  it('when every shard drops the sharded subscribers, then the room adapter subscribes again, says so, and hears the other pods', async () => {
    const settings = {
      url: cluster.url,
      cluster: true,
      prefix: prefix(),
      adapter: 'sharded' as const,
    };
    const [here, there] = [new Server(), new Server()]; // two pods' servers, never listening
    let resubscribed = 0;
    const adapters = [
      attachRoomAdapter(here, settings, logger, {
        name: 'here',
        onResubscribed: () => resubscribed++,
      }),
      attachRoomAdapter(there, settings, logger, { name: 'there' }),
    ];
    try {
      const heard: unknown[] = [];
      here.on('probe', (n: unknown) => heard.push(n));
      // Hears the other pod once its subscriptions are in force (on a cluster the first
      // `subscribersReady` may come before the slots are known).
      const hears = (n: number) =>
        eventually(
          async () => {
            there.serverSideEmit('probe', n);
            return heard;
          },
          (got) => got.includes(n),
        );
      await hears(1);

      const before = resubscribed;
      await Promise.all(redis.nodes('master').map((node) => node.client('KILL', 'TYPE', 'pubsub')));
      await eventually(
        async () => resubscribed,
        (n) => n > before,
      );
      // Subscribed again: what another pod publishes now arrives.
      await hears(2);
    } finally {
      await Promise.all(adapters.map((adapter) => adapter.close()));
    }
  });
});
