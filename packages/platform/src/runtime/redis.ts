import { Redis } from 'ioredis';
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

/**
 * A Redis connection that retries forever with a capped backoff: a Redis restart must not take a
 * pod down, only make it unready until the connection is back. Commands issued in the same tick go
 * out as one pipeline (ioredis auto-pipelining): under load, one round trip carries many
 * publishes and counters.
 *
 * A `subscriber` connection pipelines nothing and has no command timeout: its SUBSCRIBE waits for
 * the connection instead of failing, so the subscription is made (and renewed after every
 * reconnect) whenever Redis comes back.
 */
export function connectRedis(
  url: string,
  name: string,
  logger: Logger,
  {
    subscriber = false,
    onError,
    timeouts = DEFAULT_REDIS_TIMEOUTS,
  }: {
    subscriber?: boolean;
    /** Called on each connection error, e.g. to count it. */ onError?: () => void;
    timeouts?: RedisTimeouts;
  } = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableAutoPipelining: !subscriber,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    connectTimeout: timeouts.connectMs,
    ...(subscriber
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 3, commandTimeout: timeouts.commandMs }),
  });
  redis.on('error', (error) => {
    onError?.();
    logger.warn({ err: error, redis: name }, 'redis connection error');
  });
  tolerateUnawaitedCommands(redis);
  return redis;
}

/**
 * The Socket.IO adapter and emitter publish (and subscribe) without awaiting the result: while
 * Redis is away each such command would reject with nobody listening, and an unhandled rejection
 * ends the process. Their promises get a handler here; whoever awaits one still sees its failure.
 * `publish` is wrapped itself because an auto-pipelined command's promise is not sendCommand's.
 */
function tolerateUnawaitedCommands(redis: Redis): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => handled(send(...args));
  const publish = redis.publish.bind(redis) as (...args: unknown[]) => unknown;
  redis.publish = ((...args: unknown[]) => handled(publish(...args))) as Redis['publish'];
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
export async function quitRedis(redis: Redis): Promise<void> {
  await redis.ping().catch(() => undefined);
  await redis.quit();
}
