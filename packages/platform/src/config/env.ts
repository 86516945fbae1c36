import { isIP } from 'node:net';
import {
  DEFAULT_POSTGRES_TIMEOUTS as PG,
  PGLITE_DEFAULT_SETTINGS,
  type PostgresTimeouts,
} from '@mm/db';
import { defaultDomainRules, type DomainRules, type TokenOptions } from '@mm/core';
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
const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** `https://app.example.com:8443`, exactly as a browser sends it in `Origin`: no path, no slash. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

/**
 * What docs/configuration.md says of a variable (`npm run docs:config` writes it from here):
 * `description` is its meaning; `unset` is the default column for a variable the schema gives no
 * default, where what happens when it is unset depends on the mode or needs words.
 */
export interface VariableDoc {
  description: string;
  unset?: string;
}

/** Every variable of `commonEnv` is registered here with its documentation; a test checks it. */
export const variableDocs = z.registry<VariableDoc>();

/**
 * The variables both apps share, in both modes. Defaults here are the embedded default's; those of
 * the domain's rules are `defaultDomainRules()` in their units.
 */
export const commonEnv = z.object({
  PORT: port.default(3000).register(variableDocs, {
    description: 'HTTP port (`0` picks a free one and logs it)',
  }),
  HOST: z.string().min(1).optional().register(variableDocs, {
    description: 'interface to listen on',
    unset: '`127.0.0.1` embedded, `0.0.0.0` scaled',
  }),
  TRUST_PROXY_HOPS: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .optional()
    .register(variableDocs, {
      description:
        'proxies in front that append to `X-Forwarded-For` (nginx, the Ingress); the client address ' +
        '(per-address rate limits, logs) is read that many entries from the right, so a client ' +
        "cannot choose it by sending the header itself (`0`: the connection's peer)",
      unset: '`0` embedded, `1` scaled',
    }),
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
    })
    .register(variableDocs, {
      description:
        'other origins (`scheme://host[:port]`, comma-separated) that browser apps may call the ' +
        "API and the gateway from; the service's own origin needs no CORS",
      unset: 'own origin only',
    }),
  NODE_ENV: z.string().optional().register(variableDocs, {
    description:
      '`production` counts as reachable by others wherever the process listens (see [below](#reachable-by-others))',
    unset: 'unset',
  }),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .register(variableDocs, { description: 'pino level; logs are JSON lines on stdout' }),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/ })
    .optional()
    .register(variableDocs, {
      description:
        'PostgreSQL connection string; **required** for `start:api` / `start:gateway` (scaled mode)',
      unset: 'PGlite (embedded)',
    }),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional()
    .register(variableDocs, {
      description:
        "the schema the tables live in: migrating checks that the role's own `search_path` " +
        '(`ALTER ROLE … SET search_path`) names it, since a pooler passes no per-connection ' +
        'search_path; tests give each file a role and schema of its own',
      unset: 'not checked',
    }),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20).register(variableDocs, {
    description: 'pg pool size per process',
  }),
  // Bounded waits on PostgreSQL and Redis (docs/operations.md): an unreachable or silent dependency
  // makes a request fail with 503 UNAVAILABLE within these, never hang it.
  DATABASE_ACQUIRE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(PG.acquireMs)
    .register(variableDocs, {
      description:
        'longest wait for a pool connection, opening one included; then the request fails with ' +
        '503 `UNAVAILABLE`',
    }),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(PG.statementMs)
    .register(variableDocs, {
      description:
        '`statement_timeout` of every transaction (`SET LOCAL`); a statement with no answer at ' +
        'all this long + 500 ms has its connection closed; `0` = none',
    }),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3_600_000)
    .default(PG.idleInTransactionMs)
    .register(variableDocs, {
      description:
        '`idle_in_transaction_session_timeout` of every transaction (`SET LOCAL`); `0` = none',
    }),
  DATABASE_IDLE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .max(3_600_000)
    .default(PG.idleMs)
    .register(variableDocs, { description: 'an idle pool connection is closed after this long' }),
  DATABASE_MAX_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(PG.maxLifetimeSeconds)
    .register(variableDocs, {
      description:
        'every pool connection is replaced after this long, so none outlives a failover; `0` = never',
    }),
  REDIS_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(REDIS.connectMs)
    .register(variableDocs, {
      description: 'longest wait for a Redis connection before it is retried',
    }),
  REDIS_COMMAND_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(REDIS.commandMs)
    .register(variableDocs, {
      description:
        "longest wait for a Redis command's answer, reconnect included (subscriptions wait); " +
        'then `UNAVAILABLE`',
    }),
  HEALTH_CHECK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(2_000)
    .register(variableDocs, {
      description:
        "how long `/health/ready` waits for PostgreSQL's `select 1` and each Redis `PING` " +
        'before it counts as down',
    }),
  DATA_DIR: z.string().min(1).default('./.data').register(variableDocs, {
    description: "PGlite's folder in the embedded default",
  }),
  PGLITE_SETTINGS: z
    .string()
    .optional()
    .transform((value, context) => {
      const settings: Record<string, string> = {};
      for (const pair of (value ?? '').split(/\s+/).filter(Boolean)) {
        const match = /^([a-z_][a-z0-9_.]*)=(\S+)$/.exec(pair);
        if (match) settings[match[1]!] = match[2]!;
        else context.addIssue({ code: 'custom', message: `not name=value: ${pair}` });
      }
      return Object.keys(settings).length ? settings : undefined;
    })
    .register(variableDocs, {
      description:
        "PostgreSQL settings of the embedded default's PGlite, `name=value` separated by spaces " +
        '(`shared_buffers=64MB work_mem=8MB`), each over its default; the defaults keep it small ' +
        '([benchmarks](benchmarks.md#the-embedded-defaults-memory))',
      unset: Object.entries(PGLITE_DEFAULT_SETTINGS)
        .map(([name, value]) => `\`${name}=${value}\``)
        .join(' '),
    }),
  REDIS_URL: z
    .string()
    .refine(
      (value) =>
        value
          .split(',')
          .every((url) => z.url({ protocol: /^rediss?$/ }).safeParse(url.trim()).success),
      'must be a redis:// URL, or with REDIS_CLUSTER several, comma-separated',
    )
    .optional()
    .register(variableDocs, {
      description:
        'Redis for the Socket.IO adapter, presence, rate limits and the score cache; with ' +
        '`REDIS_CLUSTER`, the seed nodes of the cluster, comma-separated; **required** in scaled mode',
      unset: 'in-memory stand-ins (embedded)',
    }),
  REDIS_CLUSTER: bool.default(false).register(variableDocs, {
    description: '`REDIS_URL` names the seed nodes of a Redis Cluster (ioredis `Cluster`)',
  }),
  REDIS_ADAPTER: z
    .enum(['sharded', 'classic'])
    .default('sharded')
    .register(variableDocs, {
      description:
        'how rooms cross pods: `sharded` (Redis 7 sharded pub/sub, a channel per room, so a pod ' +
        'reads only its rooms) or `classic` (every pod reads every room); every pod must agree',
    }),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .default('mm')
    .register(variableDocs, {
      description:
        'prefix of every Redis key and channel, so several deployments (or test files) share one Redis',
    }),
  JWT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .register(variableDocs, {
      description:
        'HS256 secret, at least 32 characters; **required** in scaled mode and wherever others ' +
        'can reach the process, unless `JWT_JWKS_URL` is set',
      unset: 'embedded only: a development secret in the source',
    }),
  JWT_JWKS_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .register(variableDocs, {
      description:
        "an OpenID Connect provider's JSON Web Key Set (its `jwks_uri`): RS256 and ES256 tokens " +
        'signed with its keys are accepted besides HS256 ones, with `JWT_ISSUER` and ' +
        '`JWT_AUDIENCE` checked; stands in for `JWT_SECRET` where others can reach the process ' +
        '(see [docs/operations.md](operations.md#tokens-from-an-identity-provider))',
      unset: 'HS256 tokens only',
    }),
  JWT_ISSUER: z.string().min(1).optional().register(variableDocs, {
    description:
      "`iss` the identity provider's tokens must carry; **required** with `JWT_JWKS_URL`",
    unset: 'unset',
  }),
  JWT_AUDIENCE: z
    .string()
    .min(1)
    .optional()
    .register(variableDocs, {
      description:
        "`aud` the identity provider's tokens must carry (this API's client id or audience); " +
        '**required** with `JWT_JWKS_URL`',
      unset: 'unset',
    }),
  JWKS_CACHE_MAX_AGE_SECONDS: z.coerce
    .number()
    .positive()
    .max(86_400)
    .default(600)
    .register(variableDocs, {
      description:
        "the identity provider's keys are fetched again once they are this old, so a key it " +
        'removed stops verifying tokens within this time',
    }),
  JWKS_REFETCH_COOLDOWN_SECONDS: z.coerce
    .number()
    .min(0)
    .max(3_600)
    .default(30)
    .register(variableDocs, {
      description:
        'a token of a key id not in the cached set (a rotation) fetches the set again at once, ' +
        'but not within this long of the last fetch, so forged key ids cannot flood the provider',
    }),
  JWT_GROUPS_CLAIM: z
    .string()
    .min(1)
    .optional()
    .register(variableDocs, {
      description:
        'a claim (e.g. `groups`) listing the groups the roles below are read from when a token has ' +
        'no `role` claim (`user`, `moderator` or `admin`)',
      unset: '`role` claim only',
    }),
  JWT_MODERATOR_GROUPS: commaList.register(variableDocs, {
    description: 'groups (comma-separated) of `JWT_GROUPS_CLAIM` that make a caller a moderator',
    unset: 'none',
  }),
  JWT_ADMIN_GROUPS: commaList.register(variableDocs, {
    description: 'groups (comma-separated) of `JWT_GROUPS_CLAIM` that make a caller an admin',
    unset: 'none',
  }),
  PROFILE_REF_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .register(variableDocs, {
      description:
        'key of the opaque discovery references, at least 32 characters; **required** with ' +
        '`JWT_JWKS_URL` and no `JWT_SECRET` where others can reach the process',
      unset: '`JWT_SECRET`',
    }),
  ENTITLEMENTS_WEBHOOK_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .register(variableDocs, {
      description:
        'HMAC-SHA256 secret of `POST /api/webhooks/entitlements` (a billing system grants or ' +
        'revokes premium), at least 32 characters',
      unset: 'webhook not mounted',
    }),
  DEV_TOKENS: bool.optional().register(variableDocs, {
    description: 'enables `POST /api/auth/dev-token {"user_id": N}`',
    unset: '`true` embedded, `false` scaled',
  }),
  ALLOW_INSECURE_DEV_TOKENS: bool.default(false).register(variableDocs, {
    description:
      'lets `DEV_TOKENS` start where others can reach it ([below](#reachable-by-others)): anyone may then act as any ' +
      'user; for a private compose stack or dev cluster only',
  }),
  DAILY_MATCH_LIMIT: z.coerce
    .number()
    .int()
    .min(0)
    .default(RULES.dailyMatchLimit)
    .register(variableDocs, {
      description: 'matches a free user may create per UTC day (premium: no limit)',
    }),
  MATCH_TTL_HOURS: z.coerce
    .number()
    .positive()
    .default(RULES.matchTtlMs / HOUR_MS)
    .register(variableDocs, { description: 'a match expires this long after it is created' }),
  MATCH_EXTEND_HOURS: z.coerce
    .number()
    .positive()
    .default(RULES.extendMs / HOUR_MS)
    .register(variableDocs, { description: 'what one extension adds' }),
  AUTO_APPROVE_PROFILES: bool.optional().register(variableDocs, {
    description:
      'new and changed profiles are approved at once (only approved profiles are matched); ' +
      "`false` makes them wait in the moderators' review queue (docs/design.md §3.13)",
    unset: '`true` embedded, `false` scaled',
  }),
  CONTENT_FILTER: z
    .enum(['off', 'mask', 'refuse'])
    .default(RULES.contentFilter.mode)
    .register(variableDocs, {
      description:
        'the word filter of messages, display names and bios (docs/design.md §3.14): `mask` ' +
        'shows readers `***` in place of a filtered word, `refuse` answers the writer 400 ' +
        '`CONTENT_REFUSED`',
    }),
  CONTENT_FILTER_WORDS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((word) => word.trim())
        .filter(Boolean),
    )
    .register(variableDocs, {
      description:
        "the deployment's own words (comma-separated), filtered beside the maintained English list",
    }),
  REPORT_RATE_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.reportRate.points)
    .register(variableDocs, {
      description: 'reports one user may file per window (a folded repeat counts too)',
    }),
  REPORT_RATE_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.reportRate.windowSeconds)
    .register(variableDocs, { description: 'the window of `REPORT_RATE_LIMIT`' }),
  MATCH_ACTIVE_WITHIN_DAYS: z.coerce
    .number()
    .positive()
    .default(RULES.activeWithinMs / DAY_MS)
    .register(variableDocs, {
      description:
        'find-match only offers people active (profile saved, find-match called) this recently',
    }),
  SWEEP_INTERVAL_SECONDS: z.coerce
    .number()
    .positive()
    .max(86_400)
    .default(RULES.sweepIntervalMs / 1000)
    .register(variableDocs, {
      description:
        'how often API pods (and the embedded default) expire due matches and purge expired ' +
        'secret messages',
    }),
  SECRET_MESSAGE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.secretMessageTtlMs / 1000)
    .register(variableDocs, {
      description: 'how long a secret-chat message lives before it is purged',
    }),
  UNSEND_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(RULES.unsendWindowSeconds)
    .register(variableDocs, {
      description:
        'how long after sending the sender may take a message back (`message:delete`); 0 turns ' +
        'unsend off',
    }),
  MAX_SOCKETS_PER_USER: z.coerce
    .number()
    .int()
    .min(0)
    .default(RULES.maxSocketsPerUser)
    .register(variableDocs, {
      description:
        'sockets one user may hold on one process (gateway pod or the embedded default); ' +
        '`0` = no cap',
    }),
  HANDSHAKE_RATE_LIMIT_PER_IP: z.coerce
    .number()
    .int()
    .min(0)
    .default(RULES.handshakeRatePerIp.points)
    .register(variableDocs, {
      description:
        'Socket.IO handshakes per client address per window, before authentication (so a flood ' +
        'of bad tokens is limited too), shared through Redis when scaled; `0` = off',
    }),
  HANDSHAKE_RATE_LIMIT_PER_IP_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.handshakeRatePerIp.windowSeconds)
    .register(variableDocs, { description: 'the window of `HANDSHAKE_RATE_LIMIT_PER_IP`' }),
  MESSAGE_RATE_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.messageRate.points)
    .register(variableDocs, {
      description: 'messages one user may send per window, over all sockets and pods',
    }),
  MESSAGE_RATE_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.messageRate.windowSeconds)
    .register(variableDocs, { description: 'the window of `MESSAGE_RATE_LIMIT`' }),
  HTTP_RATE_LIMIT_PER_IP: z.coerce
    .number()
    .int()
    .min(0)
    .default(RULES.httpRate.perIp.points)
    .register(variableDocs, {
      description:
        'REST requests per client address per window, on every `/api` route, before ' +
        'authentication; shared by every API pod through Redis when scaled; `0` = off',
    }),
  HTTP_RATE_LIMIT_PER_IP_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.httpRate.perIp.windowSeconds)
    .register(variableDocs, { description: 'the window of `HTTP_RATE_LIMIT_PER_IP`' }),
  HTTP_RATE_LIMIT_PER_USER: z.coerce
    .number()
    .int()
    .min(0)
    .default(RULES.httpRate.perUser.points)
    .register(variableDocs, {
      description: 'REST requests per user per window on authenticated routes; `0` = off',
    }),
  HTTP_RATE_LIMIT_PER_USER_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(RULES.httpRate.perUser.windowSeconds)
    .register(variableDocs, { description: 'the window of `HTTP_RATE_LIMIT_PER_USER`' }),
  MESSAGE_BATCH_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .max(5_000)
    .default(RULES.messageBatchMax)
    .register(variableDocs, {
      description: 'most messages the batching writer stores in one statement',
    }),
  MESSAGE_WRITE_LANES: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(RULES.messageWriteLanes)
    .register(variableDocs, {
      description:
        'message batches in flight at once per process, each on its own pool connection; one ' +
        'measured best ([benchmarks](benchmarks.md)): fewer, larger batches cost less CPU per message',
    }),
  MESSAGE_WRITE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000)
    .default(RULES.messageWriteIntervalMs)
    .register(variableDocs, {
      description:
        'least time between the starts of two message batches of one lane: under load a lane ' +
        'that waits stores more per statement, each of which has a fixed cost in PostgreSQL; ' +
        'a send after a quiet spell is written at once ([benchmarks](benchmarks.md))',
    }),
  PHOTO_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50_000_000)
    .default(RULES.photoMaxBytes)
    .register(variableDocs, {
      description:
        'largest profile photo upload accepted, in bytes (resized and re-encoded as WebP when stored)',
    }),
  GATEWAY_DRAIN_WINDOW_SECONDS: z.coerce
    .number()
    .min(0)
    .max(600)
    .default(20)
    .register(variableDocs, {
      description:
        'after SIGTERM: seconds a gateway gives its sockets to move to other pods before closing',
    }),
  DB_SLOW_QUERY_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(500)
    .register(variableDocs, {
      description:
        'a query slower than this is logged as `slow query` (its SQL, never the parameters), ' +
        'besides being timed in the metrics',
    }),
  EXPIRY_WARNING_MINUTES: z.coerce
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(RULES.expiryWarningMs / 60_000)
    .register(variableDocs, {
      description:
        'a match warns both users this long before it expires: `match:expiring` on the socket ' +
        'and a push (once per expiry; an extension warns again before the new one)',
    }),
  VAPID_PUBLIC_KEY: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{80,100}$/,
      'must be a base64url P-256 public key (npm run push:vapid-keys)',
    )
    .optional()
    .register(variableDocs, {
      description:
        'Web Push server key pair, public half (`npm run push:vapid-keys` makes one); browsers ' +
        'subscribe with it as `applicationServerKey`. With the private key and subject set, API ' +
        'pods send push notifications',
      unset: 'push off (said at start-up); the outbox still fills',
    }),
  VAPID_PRIVATE_KEY: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{40,50}$/,
      'must be a base64url P-256 private key (npm run push:vapid-keys)',
    )
    .optional()
    .register(variableDocs, {
      description: 'the private half of the VAPID key pair; a secret',
      unset: 'push off',
    }),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:\/\/)\S+$/, 'must be a mailto: or https: URL')
    .optional()
    .register(variableDocs, {
      description:
        'who runs this server, for the push services (`mailto:ops@example.com` or an https URL)',
      unset: 'push off',
    }),
  PUSH_CLAIM_LEASE_SECONDS: z.coerce
    .number()
    .positive()
    .max(3_600)
    .default(60)
    .register(variableDocs, {
      description:
        'how long a sender holds the pushes it claimed; one whose pod died mid-send goes out again ' +
        'after this (at least once; the Topic header makes the device replace the repeat)',
    }),
  PUSH_INTERVAL_SECONDS: z.coerce.number().positive().max(3_600).default(1).register(variableDocs, {
    description: 'how often each API pod looks for due pushes',
  }),
  PRESENCE_TTL_SECONDS: z.coerce
    .number()
    .positive()
    .max(3_600)
    .default(RULES.presenceTtlMs / 1000)
    .register(variableDocs, {
      description:
        'a socket on a gateway pod that stopped refreshing (killed) stops counting as online after this',
    }),
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
    | { kind: 'pglite'; dataDir: string; settings?: Record<string, string> };
  redis?: RedisSettings & { timeouts: RedisTimeouts; adapter: RoomAdapterMode };
  /** Prefix for in-memory keys too, so the shape is the same in both modes. */
  keyPrefix: string;
  auth: {
    jwtSecret: string;
    devTokens: boolean;
    /** Beyond HS256: the identity provider, and how roles are read (`DomainDeps.tokens`). */
    tokens?: Omit<TokenOptions, 'secret' | 'externalUserId'>;
    profileRefSecret?: string;
    entitlementsWebhookSecret?: string;
  };
  rules: DomainRules;
  /** After SIGTERM: readiness fails at once; a gateway's sockets get this long to move elsewhere. */
  drain: { windowMs: number };
  observability: { slowQueryMs: number; healthCheckTimeoutMs: number };
  /** Push notifications; absent (off) unless the three VAPID variables are set. */
  push?: {
    vapid: { publicKey: string; privateKey: string; subject: string };
    leaseMs: number;
    intervalMs: number;
  };
}

export function domainRules(e: z.output<typeof commonEnv>, mode: RuntimeMode): DomainRules {
  return {
    dailyMatchLimit: e.DAILY_MATCH_LIMIT,
    // On for trying it out alone; a deployment for real users reviews profiles by default.
    autoApproveProfiles: e.AUTO_APPROVE_PROFILES ?? mode === 'embedded',
    activeWithinMs: e.MATCH_ACTIVE_WITHIN_DAYS * DAY_MS,
    sweepIntervalMs: e.SWEEP_INTERVAL_SECONDS * 1000,
    matchTtlMs: e.MATCH_TTL_HOURS * HOUR_MS,
    extendMs: e.MATCH_EXTEND_HOURS * HOUR_MS,
    secretMessageTtlMs: e.SECRET_MESSAGE_TTL_SECONDS * 1000,
    unsendWindowSeconds: e.UNSEND_WINDOW_SECONDS,
    messageRate: { points: e.MESSAGE_RATE_LIMIT, windowSeconds: e.MESSAGE_RATE_WINDOW_SECONDS },
    reportRate: { points: e.REPORT_RATE_LIMIT, windowSeconds: e.REPORT_RATE_WINDOW_SECONDS },
    contentFilter: { mode: e.CONTENT_FILTER, words: e.CONTENT_FILTER_WORDS },
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
    messageWriteIntervalMs: e.MESSAGE_WRITE_INTERVAL_MS,
    presenceTtlMs: e.PRESENCE_TTL_SECONDS * 1000,
    photoMaxBytes: e.PHOTO_MAX_BYTES,
    expiryWarningMs: e.EXPIRY_WARNING_MINUTES * 60_000,
  };
}

/**
 * Validates the environment once. Scaled processes need DATABASE_URL, REDIS_URL and JWT_SECRET
 * (or JWT_JWKS_URL);
 * the embedded default needs nothing and falls back to PGlite and in-memory adapters.
 */
export function loadAppConfig(mode: RuntimeMode, env: NodeJS.ProcessEnv = process.env): AppConfig {
  // An identity provider stands in for JWT_SECRET; its issuer and audience must then be named.
  const provider = Boolean(env.JWT_JWKS_URL);
  const required = commonEnv.required({
    ...(mode === 'scaled' && { DATABASE_URL: true, REDIS_URL: true }),
    ...(mode === 'scaled' && !provider && { JWT_SECRET: true }),
    ...(provider && { JWT_ISSUER: true, JWT_AUDIENCE: true }),
  });
  const e = parseEnv(required, env);
  if (e.REDIS_URL?.includes(',') && !e.REDIS_CLUSTER)
    throw new ConfigError(
      'Invalid configuration:\n  REDIS_URL: several nodes are listed; set REDIS_CLUSTER=true for a Redis Cluster',
    );
  const vapid = [e.VAPID_PUBLIC_KEY, e.VAPID_PRIVATE_KEY, e.VAPID_SUBJECT];
  if (vapid.some(Boolean) && !vapid.every(Boolean)) {
    throw new ConfigError(
      'Invalid configuration:\n  VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT go together: ' +
        'set all three to send push notifications, or none.',
    );
  }
  const host = e.HOST ?? (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0');
  const devTokens = e.DEV_TOKENS ?? mode === 'embedded';
  // HS256 tokens are verified with JWT_SECRET, or (no provider, or dev tokens on) with the
  // published development secret, which the refusal below allows on loopback only.
  const acceptHs256 = e.JWT_SECRET !== undefined || !e.JWT_JWKS_URL || devTokens;
  refuseExposedDevAuth({
    host,
    production: e.NODE_ENV === 'production',
    publishedSecret: e.JWT_SECRET === undefined && acceptHs256,
    publishedRefKey:
      e.JWT_SECRET === undefined && e.PROFILE_REF_SECRET === undefined && !acceptHs256,
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
      : {
          kind: 'pglite',
          dataDir: e.DATA_DIR,
          ...(e.PGLITE_SETTINGS && { settings: e.PGLITE_SETTINGS }),
        },
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
      ...((e.JWT_JWKS_URL || e.JWT_GROUPS_CLAIM) && { tokens: tokenOptions(e, acceptHs256) }),
      ...(e.PROFILE_REF_SECRET && { profileRefSecret: e.PROFILE_REF_SECRET }),
      ...(e.ENTITLEMENTS_WEBHOOK_SECRET && {
        entitlementsWebhookSecret: e.ENTITLEMENTS_WEBHOOK_SECRET,
      }),
    },
    rules: domainRules(e, mode),
    drain: { windowMs: e.GATEWAY_DRAIN_WINDOW_SECONDS * 1000 },
    observability: {
      slowQueryMs: e.DB_SLOW_QUERY_MS,
      healthCheckTimeoutMs: e.HEALTH_CHECK_TIMEOUT_MS,
    },
    ...(e.VAPID_PUBLIC_KEY &&
      e.VAPID_PRIVATE_KEY &&
      e.VAPID_SUBJECT && {
        push: {
          vapid: {
            publicKey: e.VAPID_PUBLIC_KEY,
            privateKey: e.VAPID_PRIVATE_KEY,
            subject: e.VAPID_SUBJECT,
          },
          leaseMs: e.PUSH_CLAIM_LEASE_SECONDS * 1000,
          intervalMs: e.PUSH_INTERVAL_SECONDS * 1000,
        },
      }),
  };
}

/** How tokens are verified beyond HS256: the identity provider, and roles from groups. */
function tokenOptions(
  e: z.output<typeof commonEnv>,
  acceptHs256: boolean,
): Omit<TokenOptions, 'secret' | 'externalUserId'> {
  return {
    acceptHs256,
    ...(e.JWT_JWKS_URL && {
      identityProvider: {
        jwksUrl: e.JWT_JWKS_URL,
        issuer: e.JWT_ISSUER!,
        audience: e.JWT_AUDIENCE!,
        cacheMaxAgeMs: e.JWKS_CACHE_MAX_AGE_SECONDS * 1000,
        refetchCooldownMs: e.JWKS_REFETCH_COOLDOWN_SECONDS * 1000,
      },
    }),
    ...(e.JWT_GROUPS_CLAIM && {
      roles: {
        groupsClaim: e.JWT_GROUPS_CLAIM,
        groups: { moderator: e.JWT_MODERATOR_GROUPS, admin: e.JWT_ADMIN_GROUPS },
      },
    }),
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
 * production, neither the published embedded secret (JWT_SECRET unset, HS256 accepted) nor dev
 * tokens (unless ALLOW_INSECURE_DEV_TOKENS says so, for a private stack) may be in use; with only
 * an identity provider (JWT_JWKS_URL), discovery references need a key of their own.
 */
function refuseExposedDevAuth(o: {
  host: string;
  production: boolean;
  publishedSecret: boolean;
  publishedRefKey: boolean;
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
        'characters), or JWT_JWKS_URL (with DEV_TOKENS=false) to take tokens from an identity ' +
        'provider only.',
    );
  }
  if (o.publishedRefKey) {
    problems.push(
      'JWT_SECRET and PROFILE_REF_SECRET are unset, so discovery references would be sealed with ' +
        'the development key published in the source: anyone could read the user ids behind ' +
        'them. Set PROFILE_REF_SECRET (at least 32 random characters).',
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
