import type { Redis } from 'ioredis';
import type { RedisClient } from '../redis-client';
import type { Logger } from '../logger';

/** Compatibility scores by pair. A miss (or a cache that is down) only means computing again. */
export interface ScoreCache {
  /** The cached scores of `userId` with each of `otherIds`, undefined where unknown. */
  get(userId: number, otherIds: number[]): Promise<(number | undefined)[]>;
  set(userId: number, scores: Map<number, number>): Promise<void>;
}

export const SCORE_TTL_SECONDS = 3_600;

/** SET KEYS[i] ARGV[i + 1] EX ARGV[1], for every key: what one SET per pair does, in one command. */
const SET_ALL_WITH_TTL = `
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
end`;

/** One key per pair, the two ids sorted, so both directions share it. */
export function scoreKey(prefix: string, x: number, y: number): string {
  return x < y ? `${prefix}:score:${x}:${y}` : `${prefix}:score:${y}:${x}`;
}

export interface RedisScoreCacheOptions {
  keyPrefix: string;
  ttlSeconds?: number;
  /** A command that takes longer is given up on: find-match goes on uncached. */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Scores in Redis, shared by every pod. Fails fast: while the connection is not ready nothing is
 * sent (ioredis would queue the command until it reconnects), a slow command is abandoned after
 * `timeoutMs`, and every failure is logged and answered as a miss, never thrown.
 */
export class RedisScoreCache implements ScoreCache {
  private readonly ttlSeconds: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisScoreCacheOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds ?? SCORE_TTL_SECONDS;
    this.timeoutMs = options.timeoutMs ?? 150;
  }

  async get(userId: number, otherIds: number[]): Promise<(number | undefined)[]> {
    const misses = otherIds.map(() => undefined);
    if (otherIds.length === 0) return misses;
    const keys = otherIds.map((id) => scoreKey(this.options.keyPrefix, userId, id));
    // A single Redis answers them all in one MGET: one command instead of 50 costs both sides
    // far less CPU. A Redis Cluster refuses an MGET whose keys lie on different slots, so there
    // it is one GET per pair, which auto-pipelining sends in one round trip per shard.
    const redis = this.redis;
    const values = await this.attempt('get', () =>
      redis.isCluster
        ? Promise.all(keys.map((key) => redis.get(key)))
        : (redis as Redis).mget(keys),
    );
    if (!values) return misses;
    return values.map((value) => (value === null ? undefined : Number(value)));
  }

  async set(userId: number, scores: Map<number, number>): Promise<void> {
    if (scores.size === 0) return;
    const redis = this.redis;
    const keys = [...scores.keys()].map((id) => scoreKey(this.options.keyPrefix, userId, id));
    // As for reading: one script sets them all on a single Redis (a first search misses all 50),
    // one SET per pair on a cluster, whose keys lie on different slots.
    await this.attempt('set', () =>
      redis.isCluster
        ? Promise.all(
            [...scores.values()].map((score, i) =>
              redis.set(keys[i]!, score, 'EX', this.ttlSeconds),
            ),
          )
        : (redis as Redis).eval(
            SET_ALL_WITH_TTL,
            keys.length,
            ...keys,
            this.ttlSeconds,
            ...scores.values(),
          ),
    );
  }

  private async attempt<T>(operation: string, command: () => Promise<T>): Promise<T | undefined> {
    if (this.redis.status !== 'ready') {
      this.options.logger?.warn(
        { operation, redisStatus: this.redis.status },
        'score cache unavailable; scoring uncached',
      );
      return undefined;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    const running = command();
    running.catch(() => undefined); // a late failure after the timeout is already handled
    try {
      return await Promise.race([running, timeout]);
    } catch (error) {
      this.options.logger?.warn({ err: error, operation }, 'score cache failed; scoring uncached');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Scores in process memory, for the embedded default (one process is the whole service there):
 * the same TTL, and at most `maxEntries` kept (the oldest go first).
 */
export class MemoryScoreCache implements ScoreCache {
  private readonly entries = new Map<string, { score: number; expiresAt: number }>();

  constructor(
    private readonly keyPrefix: string,
    private readonly ttlSeconds = SCORE_TTL_SECONDS,
    private readonly maxEntries = 50_000,
  ) {}

  get(userId: number, otherIds: number[]): Promise<(number | undefined)[]> {
    const now = Date.now();
    return Promise.resolve(
      otherIds.map((id) => {
        const key = scoreKey(this.keyPrefix, userId, id);
        const entry = this.entries.get(key);
        if (!entry) return undefined;
        if (entry.expiresAt <= now) {
          this.entries.delete(key);
          return undefined;
        }
        return entry.score;
      }),
    );
  }

  set(userId: number, scores: Map<number, number>): Promise<void> {
    const expiresAt = Date.now() + this.ttlSeconds * 1000;
    for (const [otherId, score] of scores) {
      const key = scoreKey(this.keyPrefix, userId, otherId);
      this.entries.delete(key); // re-inserted last: the newest
      this.entries.set(key, { score, expiresAt });
    }
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return Promise.resolve();
  }
}
