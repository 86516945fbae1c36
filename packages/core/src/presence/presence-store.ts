import type { RedisClient } from '../redis-client';

/** One socket's entry: its user, and the member naming the pod and the socket. */
export interface PresenceEntry {
  userId: number;
  member: string;
}

/** A user whose last connection expired: when it was last refreshed. */
export interface Departure {
  userId: number;
  lastSeenAt: Date;
}

/**
 * Where connections are counted. An entry is one socket (`member` names the pod and the socket) and
 * lives until `expiresAt` unless refreshed: a pod that dies without a word (kill -9) stops
 * refreshing, and its sockets count no more once their entries expire.
 */
export interface PresenceStore {
  /** Adds or refreshes an entry; true when the user had no live entry before (came online). */
  add(userId: number, member: string, expiresAt: number, now: number): Promise<boolean>;
  /** `add` for many entries (a heartbeat's slice): the users among them who came online. */
  addMany(entries: PresenceEntry[], expiresAt: number, now: number): Promise<number[]>;
  /** Removes an entry; true when it was the user's last one (went offline). */
  remove(userId: number, member: string, now: number): Promise<boolean>;
  /** Claims users whose every entry expired; each is returned to exactly one caller. */
  sweep(now: number, ttlMs: number): Promise<Departure[]>;
  isOnline(userIds: number[], now: number): Promise<boolean[]>;
}

/** The embedded default: one process holds every socket, so a count per user is the whole truth. */
export class MemoryPresenceStore implements PresenceStore {
  private readonly entries = new Map<number, Set<string>>();

  async add(userId: number, member: string): Promise<boolean> {
    const members = this.entries.get(userId) ?? new Set<string>();
    const cameOnline = members.size === 0;
    members.add(member);
    this.entries.set(userId, members);
    return cameOnline;
  }

  async addMany(entries: PresenceEntry[]): Promise<number[]> {
    const came: number[] = [];
    for (const { userId, member } of entries) if (await this.add(userId, member)) came.push(userId);
    return came;
  }

  async remove(userId: number, member: string): Promise<boolean> {
    const members = this.entries.get(userId);
    if (!members?.delete(member)) return false;
    if (members.size > 0) return false;
    this.entries.delete(userId);
    return true;
  }

  async sweep(): Promise<Departure[]> {
    return []; // entries die with the process, and so does everyone's connection
  }

  async isOnline(userIds: number[]): Promise<boolean[]> {
    return userIds.map((id) => (this.entries.get(id)?.size ?? 0) > 0);
  }
}

// Per user, a sorted set of socket entries scored by expiry; per bucket of users, an index of them
// scored by their latest expiry, which the sweep walks. A user's entries and the index of their
// bucket share a hash tag, so each script touches one slot: on a Redis Cluster every step runs on
// the shard that owns the bucket, and the buckets spread over the shards.
// Adds entries of users in one bucket: KEYS[1] the bucket's index, then each user's entries;
// ARGV expiry, now, the key's TTL, then each entry's member and user. Returns the users who had
// no live entry before (came online); a user's second entry finds the first live.
const ADD = `
local came = {}
for j = 1, #KEYS - 1 do
  local key, user = KEYS[j + 1], ARGV[3 + 2 * j]
  local live = redis.call('ZCOUNT', key, '(' .. ARGV[2], '+inf')
  redis.call('ZADD', key, ARGV[1], ARGV[2 + 2 * j])
  redis.call('PEXPIRE', key, ARGV[3])
  redis.call('ZADD', KEYS[1], 'GT', ARGV[1], user)
  if live == 0 then came[#came + 1] = user end
end
return came`;

const REMOVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return redis.call('ZREM', KEYS[2], ARGV[3])
end
return 0`;

// One user the sweep found due: drops their expired entries; when none is left, takes them out of
// the index and returns the expiry they were indexed with (only one caller gets it), else moves
// them to their latest expiry and returns nothing.
const CLAIM = `
local indexed = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not indexed or tonumber(indexed) > tonumber(ARGV[1]) then return false end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
  return indexed
end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('ZADD', KEYS[2], top[2], ARGV[2])
return false`;

/** Most departures one sweep looks at per bucket; the next sweep takes the rest. */
const SWEEP_BATCH = 100;

/**
 * How many indexes users are spread over. Each has its own hash tag, so on a Redis Cluster they
 * land on different slots and (with 16 over a few shards) on every shard. Changing it moves every
 * user to another key: entries written before the change expire without a departure.
 */
export const PRESENCE_BUCKETS = 16;

/**
 * Scaled mode: entries in Redis, shared by every gateway pod; works on a single Redis and on a
 * Redis Cluster alike. Every script is handed each key it touches, all in one slot: a user's
 * entries (`{prefix:presence:b}:sockets:uid`) and their bucket's index (`{prefix:presence:b}:users`).
 * The sweep reads each bucket's due users, then claims them one script per user (auto-pipelined:
 * one round trip per shard).
 */
export class RedisPresenceStore implements PresenceStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  private tag(bucket: number): string {
    return `{${this.keyPrefix}:presence:${bucket}}`;
  }

  private indexKey(bucket: number): string {
    return `${this.tag(bucket)}:users`;
  }

  private keys(userId: number): [sockets: string, index: string] {
    const bucket = userId % PRESENCE_BUCKETS;
    return [`${this.tag(bucket)}:sockets:${userId}`, this.indexKey(bucket)];
  }

  async add(userId: number, member: string, expiresAt: number, now: number): Promise<boolean> {
    return (await this.addMany([{ userId, member }], expiresAt, now)).length > 0;
  }

  /** One script per bucket (its users share its hash tag), so a heartbeat's slice is a few. */
  async addMany(entries: PresenceEntry[], expiresAt: number, now: number): Promise<number[]> {
    const byBucket = new Map<number, PresenceEntry[]>();
    for (const entry of entries) {
      const bucket = entry.userId % PRESENCE_BUCKETS;
      const list = byBucket.get(bucket);
      if (list) list.push(entry);
      else byBucket.set(bucket, [entry]);
    }
    const came = await Promise.all(
      [...byBucket].map(async ([bucket, list]) => {
        const keys = [this.indexKey(bucket), ...list.map((e) => this.keys(e.userId)[0])];
        const args = list.flatMap((e) => [e.member, e.userId]);
        const users = (await this.redis.eval(
          ADD,
          keys.length,
          ...keys,
          expiresAt,
          now,
          this.ttlMs * 3,
          ...args,
        )) as string[];
        return users.map(Number);
      }),
    );
    return came.flat();
  }

  async remove(userId: number, member: string, now: number): Promise<boolean> {
    const result = await this.redis.eval(REMOVE, 2, ...this.keys(userId), member, now, userId);
    return result === 1;
  }

  async sweep(now: number, ttlMs: number): Promise<Departure[]> {
    const buckets = Array.from({ length: PRESENCE_BUCKETS }, (_, bucket) => bucket);
    const due = await Promise.all(
      buckets.map((bucket) =>
        this.redis.zrangebyscore(this.indexKey(bucket), '-inf', now, 'LIMIT', 0, SWEEP_BATCH),
      ),
    );
    const claimed = await Promise.all(
      due.flat().map(async (user) => {
        const userId = Number(user);
        const expiredAt = (await this.redis.eval(CLAIM, 2, ...this.keys(userId), now, user)) as
          string | null;
        // The last refresh was one TTL before the entry expired.
        return expiredAt === null
          ? undefined
          : { userId, lastSeenAt: new Date(Number(expiredAt) - ttlMs) };
      }),
    );
    return claimed.filter((departure) => departure !== undefined);
  }

  async isOnline(userIds: number[], now: number): Promise<boolean[]> {
    const counts = await Promise.all(
      userIds.map((id) => this.redis.zcount(this.keys(id)[0], `(${now}`, '+inf')),
    );
    return counts.map((count) => count > 0);
  }
}
