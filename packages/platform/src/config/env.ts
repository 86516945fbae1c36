import { isIP } from 'node:net';
import { DEFAULT_POSTGRES_TIMEOUTS as PG, type PostgresTimeouts } from '@mm/db';
import { defaultDomainRules, type DomainRules } from '@mm/core';
import { z } from 'zod';
import {
  DEFAULT_REDIS_TIMEOUTS as REDIS,
  type RedisSettings,
  type RedisTimeouts,
} from '../runtime/redis';
import type { RoomAdapterMode } from '../runtime/room-adapter';

/** Raised when the environment is wrong: the message names each variable and what is wrong with it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses `env` with `schema`; a wrong value stops start-up with a message naming the variable. An
 * empty variable counts as unset, as `VAR=` in a compose file or a shell means.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const setVariables = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(setVariables);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`,
  );
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The defaults of the domain's rules: `@mm/core` holds them, the variables below are read in. */
const RULES = defaultDomainRules();

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const port = z.coerce.number().int().min(0).max(65535);

/**
 * The variables both apps share, in both modes. Defaults here are the embedded default's; those of
 * the domain's rules are `defaultDomainRules()` in their units.
 */
/** `https://app.example.com:8443`, exactly as a browser sends it in `Origin`: no path, no slash. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

export const commonEnv = z.object({
  PORT: port.default(3000),
  /** Interface to listen on: loopback in the embedded default, every interface in scaled mode. */
  HOST: z.string().min(1).optional(),
  /**
   * Proxies in front of the API that append to X-Forwarded-For (nginx, the Ingress): the client's
   * address (per-address rate limits, logs) is read that many entries from the right, so a client
   * cannot choose it by sending the header itself. 0: the connection's peer. Scaled pods default
   * to 1 (they sit behind the Ingress); the embedded default to 0 (it listens directly).
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).optional(),
  /**
   * The origins (`scheme://host[:port]`, comma-separated) whose browser apps may call the REST API
   * and the gateway. Unset: none but the service's own, which needs no CORS.
   */
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value, context) => {
      const origins = (value ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean);
      for (const origin of origins) {
        if (!isOrigin(origin)) {
          context.addIssue({
            code: 'custom',
            message: `not an origin (scheme://host[:port]): ${origin}`,
          });
        }
      }
      return origins.length ? origins : undefined;
    }),
  /** `production` counts as exposed, wherever it listens (see `refuseExposedDevAuth`). */
  NODE_ENV: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Schema (search_path) for the tables; tests give each file its own. */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  // Bounded waits on PostgreSQL and Redis (docs/operations.md): an unreachable or silent dependency
  // makes a request fail with 503 UNAVAILABLE within these, never hang it.
  /** Longest wait for a pool connection, opening a new one included. */
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(PG.acquireMs),
  /**
   * `statement_timeout` of every transaction (SET LOCAL); a statement with no answer at all this
   * long (plus 500 ms) has its connection closed. 0: no limit.
   */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(PG.statementMs),
  /** `idle_in_transaction_session_timeout` of every transaction (SET LOCAL); 0: no limit. */
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(PG.idleInTransactionMs),
  /** An idle pool connection is closed after this long. */
  DATABASE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(PG.idleMs),
  /** Every pool connection is replaced after this long (so none outlives a failover); 0: never. */
  DATABASE_MAX_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(PG.maxLifetimeSeconds),
  /** Longest wait for a Redis connection before it is retried. */
  REDIS_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(REDIS.connectMs),
  /** Longest wait for a Redis command's answer, reconnect included (not for subscriptions). */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(REDIS.commandMs),
  /** How long a readiness check waits for PostgreSQL before it counts as down. */
  HEALTH_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** Where PGlite keeps its files in the embedded default. */
  DATA_DIR: z.string().min(1).default('./.data'),
  /** One `redis://` URL; with REDIS_CLUSTER, the cluster's seed nodes, comma-separated. */
  REDIS_URL: z
    .string()
    .refine(
      (value) =>
        value
          .split(',')
          .every((url) => z.url({ protocol: /^rediss?$/ }).safeParse(url.trim()).success),
      'must be a redis:// URL, or with REDIS_CLUSTER several, comma-separated',
    )
    .optional(),
  /** REDIS_URL names the seed nodes of a Redis Cluster. */
  REDIS_CLUSTER: bool.default(false),
  /**
   * How rooms cross pods: `sharded` (Redis 7 sharded pub/sub, a channel per room: a pod hears only
   * its rooms) or `classic` (every pod hears every room). Every pod of a deployment must agree.
   */
  REDIS_ADAPTER: z.enum(['sharded', 'classic']).default('sharded'),
  /** Prefix of every Redis key and channel, so several deployments (or test files) share a Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .default('mm'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DEV_TOKENS: bool.optional(),
  /**
   * Lets DEV_TOKENS start on a non-loopback HOST or with NODE_ENV=production, where anyone who
   * reaches the API may then act as any user: for a private compose stack or dev cluster only.
   */
  ALLOW_INSECURE_DEV_TOKENS: bool.default(false),
  /** Matches a free user may create per UTC day; premium users have no limit. */
  DAILY_MATCH_LIMIT: z.coerce.number().int().min(0).default(RULES.dailyMatchLimit),
  MATCH_TTL_HOURS: z.coerce
    .number()
    .positive()
    .default(RULES.matchTtlMs / HOUR_MS),
  MATCH_EXTEND_HOURS: z.coerce
    .number()
    .positive()
    .default(RULES.extendMs / HOUR_MS),
  /**
   * New profiles start approved (no verification flow exists yet); false leaves them pending until
   * something else sets users.verification_status. Only approved profiles are ever matched.
   */
  AUTO_APPROVE_PROFILES: bool.default(RULES.autoApproveProfiles),
  /** Find-match only offers people active (profile saved, find-match called) this recently. */
  MATCH_ACTIVE_WITHIN_DAYS: z.coerce
    .number()
    .positive()
    .default(RULES.activeWithinMs / DAY_MS),
  /** How often the API (or the embedded default) expires due matches and purges secret messages. */
  SWEEP_INTERVAL_SECONDS: z.coerce
    .number()
    .positive()
    .max(86_400)
    .default(RULES.sweepIntervalMs / 1000),
  /** How long a secret-chat message lives before it is purged. */
  SECRET_MESSAGE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.secretMessageTtlMs / 1000),
  /** Sockets one user may hold on one gateway process (the embedded default: in all); 0: no cap. */
  MAX_SOCKETS_PER_USER: z.coerce.number().int().min(0).default(RULES.maxSocketsPerUser),
  /**
   * Socket.IO handshakes one client address may attempt per window, before authentication (so a
   * flood of bad tokens is limited too); 0 turns the limit off. Shared through Redis when scaled.
   */
  HANDSHAKE_RATE_LIMIT_PER_IP: z.coerce
    .number()
    .int()
    .min(0)
    .default(RULES.handshakeRatePerIp.points),
  HANDSHAKE_RATE_LIMIT_PER_IP_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.handshakeRatePerIp.windowSeconds),
  /** Messages one user may send per MESSAGE_RATE_WINDOW_SECONDS, over every socket and pod. */
  MESSAGE_RATE_LIMIT: z.coerce.number().int().positive().default(RULES.messageRate.points),
  MESSAGE_RATE_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.messageRate.windowSeconds),
  /**
   * REST requests one client address may make per window, on every /api route (before auth, so a
   * flood of bad tokens is limited too); 0 turns the limit off. Shared by every API pod through
   * Redis in scaled mode.
   */
  HTTP_RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(RULES.httpRate.perIp.points),
  HTTP_RATE_LIMIT_PER_IP_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.httpRate.perIp.windowSeconds),
  /** REST requests one user may make per window on authenticated routes; 0 turns it off. */
  HTTP_RATE_LIMIT_PER_USER: z.coerce.number().int().min(0).default(RULES.httpRate.perUser.points),
  HTTP_RATE_LIMIT_PER_USER_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.httpRate.perUser.windowSeconds),
  /** Most messages stored in one statement by the batching writer. */
  MESSAGE_BATCH_MAX: z.coerce.number().int().min(1).max(5_000).default(RULES.messageBatchMax),
  /**
   * Batches the writer keeps in flight at once, each on its own pool connection. One measured
   * best (docs/benchmarks.md): fewer, larger batches cost the pod and PostgreSQL less CPU per
   * message, and one statement in flight still stores up to MESSAGE_BATCH_MAX messages.
   */
  MESSAGE_WRITE_LANES: z.coerce.number().int().min(1).max(64).default(RULES.messageWriteLanes),
  /** The largest profile photo upload accepted, in bytes (it is resized before it is stored). */
  PHOTO_MAX_BYTES: z.coerce.number().int().min(1024).max(50_000_000).default(RULES.photoMaxBytes),
  /** Seconds a gateway takes, after SIGTERM, to let its sockets move to other pods before closing. */
  GATEWAY_DRAIN_WINDOW_SECONDS: z.coerce.number().min(0).max(600).default(20),
  /** A query slower than this is logged (SQL only) besides being timed in the metrics. */
  DB_SLOW_QUERY_MS: z.coerce.number().int().positive().default(500),
  /** A socket of a gateway pod that stopped refreshing (killed) counts as gone after this. */
  PRESENCE_TTL_SECONDS: z.coerce
    .number()
    .positive()
    .max(3_600)
    .default(RULES.presenceTtlMs / 1000),
});

/**
 * The embedded default's secret when JWT_SECRET is unset. It is in the source, so anyone can sign
 * tokens with it: accepted only on a loopback address outside production (`refuseExposedDevAuth`).
 */
const EMBEDDED_DEV_SECRET = 'embedded-default-dev-secret-not-for-production';

export type RuntimeMode = 'embedded' | 'scaled';

export interface AppConfig {
  mode: RuntimeMode;
  http: {
    host: string;
    port: number;
    trustProxyHops: number;
    /** `CORS_ORIGINS`: the other origins a browser app may call from; empty: none. */
    corsOrigins: string[];
  };
  log: { level: string };
  database:
    | {
        kind: 'postgres';
        url: string;
        poolSize: number;
        schema?: string;
        timeouts: PostgresTimeouts;
      }
    | { kind: 'pglite'; dataDir: string };
  redis?: RedisSettings & { timeouts: RedisTimeouts; adapter: RoomAdapterMode };
  /** Prefix for in-memory keys too, so the shape is the same in both modes. */
  keyPrefix: string;
  auth: { jwtSecret: string; devTokens: boolean };
  rules: DomainRules;
  /** After SIGTERM: readiness fails at once; a gateway's sockets get this long to move elsewhere. */
  drain: { windowMs: number };
  observability: { slowQueryMs: number; healthCheckTimeoutMs: number };
}

export function domainRules(e: z.output<typeof commonEnv>): DomainRules {
  return {
    dailyMatchLimit: e.DAILY_MATCH_LIMIT,
    autoApproveProfiles: e.AUTO_APPROVE_PROFILES,
    activeWithinMs: e.MATCH_ACTIVE_WITHIN_DAYS * DAY_MS,
    sweepIntervalMs: e.SWEEP_INTERVAL_SECONDS * 1000,
    matchTtlMs: e.MATCH_TTL_HOURS * HOUR_MS,
    extendMs: e.MATCH_EXTEND_HOURS * HOUR_MS,
    secretMessageTtlMs: e.SECRET_MESSAGE_TTL_SECONDS * 1000,
    messageRate: { points: e.MESSAGE_RATE_LIMIT, windowSeconds: e.MESSAGE_RATE_WINDOW_SECONDS },
    httpRate: {
      perIp: {
        points: e.HTTP_RATE_LIMIT_PER_IP,
        windowSeconds: e.HTTP_RATE_LIMIT_PER_IP_WINDOW_SECONDS,
      },
      perUser: {
        points: e.HTTP_RATE_LIMIT_PER_USER,
        windowSeconds: e.HTTP_RATE_LIMIT_PER_USER_WINDOW_SECONDS,
      },
    },
    maxSocketsPerUser: e.MAX_SOCKETS_PER_USER,
    handshakeRatePerIp: {
      points: e.HANDSHAKE_RATE_LIMIT_PER_IP,
      windowSeconds: e.HANDSHAKE_RATE_LIMIT_PER_IP_WINDOW_SECONDS,
    },
    messageBatchMax: e.MESSAGE_BATCH_MAX,
    messageWriteLanes: e.MESSAGE_WRITE_LANES,
    presenceTtlMs: e.PRESENCE_TTL_SECONDS * 1000,
    photoMaxBytes: e.PHOTO_MAX_BYTES,
  };
}

/**
 * Validates the environment once. Scaled processes need DATABASE_URL, REDIS_URL and JWT_SECRET;
 * the embedded default needs nothing and falls back to PGlite and in-memory adapters.
 */
export function loadAppConfig(mode: RuntimeMode, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const required =
    mode === 'scaled'
      ? commonEnv.required({ DATABASE_URL: true, REDIS_URL: true, JWT_SECRET: true })
      : commonEnv;
  const e = parseEnv(required, env);
  if (e.REDIS_URL?.includes(',') && !e.REDIS_CLUSTER)
    throw new ConfigError(
      'Invalid configuration:\n  REDIS_URL: several nodes are listed; set REDIS_CLUSTER=true for a Redis Cluster',
    );
  const host = e.HOST ?? (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0');
  const devTokens = e.DEV_TOKENS ?? mode === 'embedded';
  refuseExposedDevAuth({
    host,
    production: e.NODE_ENV === 'production',
    publishedSecret: e.JWT_SECRET === undefined,
    devTokens,
    devTokensAllowed: e.ALLOW_INSECURE_DEV_TOKENS,
  });
  return {
    mode,
    http: {
      host,
      port: e.PORT,
      trustProxyHops: e.TRUST_PROXY_HOPS ?? (mode === 'scaled' ? 1 : 0),
      corsOrigins: e.CORS_ORIGINS ?? [],
    },
    log: { level: e.LOG_LEVEL },
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          ...(e.DATABASE_SCHEMA && { schema: e.DATABASE_SCHEMA }),
          timeouts: {
            acquireMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
            statementMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
            idleInTransactionMs: e.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
            idleMs: e.DATABASE_IDLE_TIMEOUT_MS,
            maxLifetimeSeconds: e.DATABASE_MAX_LIFETIME_SECONDS,
          },
        }
      : { kind: 'pglite', dataDir: e.DATA_DIR },
    ...(e.REDIS_URL && {
      redis: {
        url: e.REDIS_URL,
        prefix: e.REDIS_PREFIX,
        timeouts: { connectMs: e.REDIS_CONNECT_TIMEOUT_MS, commandMs: e.REDIS_COMMAND_TIMEOUT_MS },
        cluster: e.REDIS_CLUSTER,
        adapter: e.REDIS_ADAPTER,
      },
    }),
    keyPrefix: e.REDIS_PREFIX,
    auth: {
      jwtSecret: e.JWT_SECRET ?? EMBEDDED_DEV_SECRET,
      devTokens,
    },
    rules: domainRules(e),
    drain: { windowMs: e.GATEWAY_DRAIN_WINDOW_SECONDS * 1000 },
    observability: {
      slowQueryMs: e.DB_SLOW_QUERY_MS,
      healthCheckTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
    },
  };
}

/** True for an address only this machine reaches: 127.0.0.0/8, ::1 (also IPv4-mapped), localhost. */
export function isLoopbackHost(host: string): boolean {
  const address = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (address === 'localhost') return true;
  if (isIP(address) === 6) return address === '::1' || /^::ffff:127\./.test(address);
  return isIP(address) === 4 && address.startsWith('127.');
}

/**
 * Refuses to start where anyone could act as any user: on a non-loopback address or in
 * production, neither the published embedded secret (JWT_SECRET unset) nor dev tokens (unless
 * ALLOW_INSECURE_DEV_TOKENS says so, for a private stack) may be in use.
 */
function refuseExposedDevAuth(o: {
  host: string;
  production: boolean;
  publishedSecret: boolean;
  devTokens: boolean;
  devTokensAllowed: boolean;
}): void {
  if (isLoopbackHost(o.host) && !o.production) return;
  const where = o.production ? 'NODE_ENV=production' : `HOST=${o.host} (not a loopback address)`;
  const problems: string[] = [];
  if (o.publishedSecret) {
    problems.push(
      'JWT_SECRET is unset, so tokens would be verified with the development secret published ' +
        'in the source: anyone could sign one for any user. Set JWT_SECRET (at least 32 random ' +
        'characters).',
    );
  }
  if (o.devTokens && !o.devTokensAllowed) {
    problems.push(
      'DEV_TOKENS is on, so POST /api/auth/dev-token would give anyone a token for any user. ' +
        'Set DEV_TOKENS=false, or ALLOW_INSECURE_DEV_TOKENS=true on a private stack only.',
    );
  }
  if (problems.length === 0) return;
  throw new ConfigError(
    `Refusing to start with ${where}, reachable by others:\n  ${problems.join('\n  ')}\n` +
      'Or listen on loopback only (HOST=127.0.0.1) outside production.',
  );
}
