import { Cluster, Redis, type ClusterNode, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger';

/** The bounds on a wait for Redis; docs/operations.md describes them. */
export interface RedisTimeouts {
  /** Longest wait for a connection (TCP and handshake) before it is retried. */
  connectMs: number;
  /**
   * Longest wait for a command's answer, also while it waits in the offline queue for a
   * reconnect: a user's request or send fails (UNAVAILABLE) instead of hanging on a silent Redis.
   */
  commandMs: number;
}

export const DEFAULT_REDIS_TIMEOUTS: RedisTimeouts = { connectMs: 5_000, commandMs: 2_000 };

/** Where Redis is (docs/operations.md): one node, or a Redis Cluster reached through its seeds. */
export interface RedisSettings {
  /** One `redis://` URL; with `cluster`, one or more, comma-separated: the cluster's seed nodes. */
  url: string;
  prefix: string;
  timeouts?: RedisTimeouts;
  cluster?: boolean;
}

/** A connection to a single Redis or to a Redis Cluster: the domain uses either the same way. */
export type RedisConnection = Redis | Cluster;

/** The seed nodes of a cluster URL list; user, password and TLS are taken from the first URL. */
export function clusterSeeds(urls: string): { nodes: ClusterNode[]; options: RedisOptions } {
  const parsed = urls.split(',').map((url) => new URL(url.trim()));
  const first = parsed[0]!;
  return {
    nodes: parsed.map((url) => ({ host: url.hostname, port: Number(url.port || 6379) })),
    options: {
      ...(first.username && { username: decodeURIComponent(first.username) }),
      ...(first.password && { password: decodeURIComponent(first.password) }),
      ...(first.protocol === 'rediss:' && { tls: {} }),
    },
  };
}

/**
 * A Redis connection that retries forever with a capped backoff: a Redis restart must not take a
 * pod down, only make it unready until the connection is back. Commands issued in the same tick go
 * out as one pipeline (ioredis auto-pipelining): under load, one round trip carries many
 * publishes and counters.
 *
 * A `subscriber` connection pipelines nothing and has no command timeout: its SUBSCRIBE waits for
 * the connection instead of failing, so the subscription is made (and renewed after every
 * reconnect) whenever Redis comes back. On a cluster, a subscriber keeps one connection per shard
 * for sharded pub/sub (ioredis `shardedSubscribers`), each channel's SSUBSCRIBE sent to the shard
 * that owns its slot.
 *
 * `settings` may be a bare URL (a single node, default timeouts).
 */
export function connectRedis(
  settings: string | Omit<RedisSettings, 'prefix'>,
  name: string,
  logger: Logger,
  {
    subscriber = false,
    onError,
  }: {
    subscriber?: boolean;
    /** Called on each connection error, e.g. to count it. */ onError?: () => void;
  } = {},
): RedisConnection {
  const {
    url,
    cluster = false,
    timeouts = DEFAULT_REDIS_TIMEOUTS,
  } = typeof settings === 'string' ? { url: settings } : settings;
  const retry = (attempt: number) => Math.min(attempt * 200, 5_000);
  const options: RedisOptions = {
    connectionName: name,
    connectTimeout: timeouts.connectMs,
    ...(subscriber
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 3, commandTimeout: timeouts.commandMs }),
  };
  let redis: RedisConnection;
  if (cluster) {
    const seeds = clusterSeeds(url);
    redis = new Cluster(seeds.nodes, {
      redisOptions: { ...options, ...seeds.options },
      enableAutoPipelining: !subscriber,
      shardedSubscribers: subscriber,
      clusterRetryStrategy: retry,
      // A command keeps its place while the topology is being refreshed, within commandMs.
      retryDelayOnClusterDown: 200,
    });
  } else {
    redis = new Redis(url, { ...options, enableAutoPipelining: !subscriber, retryStrategy: retry });
  }
  redis.on('error', (error) => {
    onError?.();
    logger.warn({ err: error, redis: name }, 'redis connection error');
  });
  tolerateUnawaitedCommands(redis);
  return redis;
}

/**
 * The Socket.IO adapter publishes (and subscribes) without awaiting the result: while Redis is
 * away each such command would reject with nobody listening, and an unhandled rejection ends the
 * process. Their promises get a handler here; whoever awaits one still sees its failure.
 * `publish` and `spublish` are wrapped themselves because an auto-pipelined command's promise is
 * not sendCommand's.
 */
function tolerateUnawaitedCommands(redis: RedisConnection): void {
  const target = redis as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of ['sendCommand', 'publish', 'spublish']) {
    const original = target[method]!.bind(redis);
    target[method] = (...args: unknown[]) => handled(original(...args));
  }
}

function handled<T>(result: T): T {
  if (result instanceof Promise) result.catch(() => undefined);
  return result;
}

/**
 * Closes a connection after everything already issued on it has been answered. With
 * auto-pipelining a command issued just before `quit` may still wait for its pipeline to be
 * written; a PING queued behind it flushes that pipeline first.
 */
export async function quitRedis(redis: RedisConnection): Promise<void> {
  await redis.ping().catch(() => undefined);
  await redis.quit();
}
