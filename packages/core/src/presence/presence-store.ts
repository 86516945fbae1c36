import type { RedisClient } from '../redis-client';

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

// Per user, a sorted set of socket entries scored by expiry; one index of users scored by their
// latest expiry, which the sweep walks. Scripts make each step atomic across pods.
const ADD = `
local live = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[3], '+inf')
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[5])
if live == 0 then return 1 end
return 0`;

const REMOVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  return redis.call('ZREM', KEYS[2], ARGV[3])
end
return 0`;

const SWEEP = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local gone = {}
for i = 1, #due, 2 do
  local user = due[i]
  local key = ARGV[3] .. user
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
  if redis.call('ZCARD', key) == 0 then
    redis.call('ZREM', KEYS[1], user)
    table.insert(gone, user)
    table.insert(gone, due[i + 1])
  else
    local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    redis.call('ZADD', KEYS[1], top[2], user)
  end
end
return gone`;

/** Most departures one sweep claims; the next sweep takes the rest. */
const SWEEP_BATCH = 500;

/**
 * Scaled mode: entries in Redis, shared by every gateway pod. The sweep reads sockets keys it is
 * not handed as KEYS, which a single Redis (or a replicated one) allows and Redis Cluster does not.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly usersKey: string;
  private readonly socketsPrefix: string;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
    private readonly ttlMs: number,
  ) {
    this.usersKey = `${keyPrefix}:presence:users`;
    this.socketsPrefix = `${keyPrefix}:presence:sockets:`;
  }

  async add(userId: number, member: string, expiresAt: number, now: number): Promise<boolean> {
    const result = await this.redis.eval(
      ADD,
      2,
      this.socketsPrefix + userId,
      this.usersKey,
      member,
      expiresAt,
      now,
      this.ttlMs * 3,
      userId,
    );
    return result === 1;
  }

  async remove(userId: number, member: string, now: number): Promise<boolean> {
    const result = await this.redis.eval(
      REMOVE,
      2,
      this.socketsPrefix + userId,
      this.usersKey,
      member,
      now,
      userId,
    );
    return result === 1;
  }

  async sweep(now: number, ttlMs: number): Promise<Departure[]> {
    const flat = (await this.redis.eval(
      SWEEP,
      1,
      this.usersKey,
      now,
      SWEEP_BATCH,
      this.socketsPrefix,
    )) as string[];
    const departures: Departure[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      // The last refresh was one TTL before the entry expired.
      departures.push({
        userId: Number(flat[i]),
        lastSeenAt: new Date(Number(flat[i + 1]) - ttlMs),
      });
    }
    return departures;
  }

  async isOnline(userIds: number[], now: number): Promise<boolean[]> {
    const counts = await Promise.all(
      userIds.map((id) => this.redis.zcount(this.socketsPrefix + id, `(${now}`, '+inf')),
    );
    return counts.map((count) => count > 0);
  }
}
