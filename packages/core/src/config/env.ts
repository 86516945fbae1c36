import { z } from 'zod';

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

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const port = z.coerce.number().int().min(0).max(65535);

/** The variables both apps share, in both modes. Defaults here are the embedded default's. */
export const commonEnv = z.object({
  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** Schema (search_path) for the tables; tests give each file its own. */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  /** Where PGlite keeps its files in the embedded default. */
  DATA_DIR: z.string().min(1).default('./.data'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  /** Prefix of every Redis key and channel, so several deployments (or test files) share a Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/)
    .default('mm'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DEV_TOKENS: bool.optional(),
});

/** An embedded-only secret: anyone may mint tokens there anyway (DEV_TOKENS is on). */
const EMBEDDED_DEV_SECRET = 'embedded-default-dev-secret-not-for-production';

export type RuntimeMode = 'embedded' | 'scaled';

export interface AppConfig {
  mode: RuntimeMode;
  http: { host: string; port: number };
  log: { level: string };
  database:
    | { kind: 'postgres'; url: string; poolSize: number; schema?: string }
    | { kind: 'pglite'; dataDir: string };
  redis?: { url: string; prefix: string };
  /** Prefix for in-memory keys too, so the shape is the same in both modes. */
  keyPrefix: string;
  auth: { jwtSecret: string; devTokens: boolean };
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
  return {
    mode,
    http: { host: e.HOST, port: e.PORT },
    log: { level: e.LOG_LEVEL },
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          poolSize: e.DATABASE_POOL_SIZE,
          ...(e.DATABASE_SCHEMA && { schema: e.DATABASE_SCHEMA }),
        }
      : { kind: 'pglite', dataDir: e.DATA_DIR },
    ...(e.REDIS_URL && { redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX } }),
    keyPrefix: e.REDIS_PREFIX,
    auth: {
      jwtSecret: e.JWT_SECRET ?? EMBEDDED_DEV_SECRET,
      devTokens: e.DEV_TOKENS ?? mode === 'embedded',
    },
  };
}
