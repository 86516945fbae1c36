import { DEFAULT_POSTGRES_TIMEOUTS } from '@mm/db';
import { ConfigError, loadAppConfig } from '../src/config/env';
import { DEFAULT_REDIS_TIMEOUTS } from '../src/runtime/redis';

describe('loadAppConfig', () => {
  it('when nothing is set in the embedded default, then it uses PGlite, no Redis and dev tokens', () => {
    const config = loadAppConfig('embedded', {});
    expect(config.database).toEqual({ kind: 'pglite', dataDir: './.data' });
    expect(config.redis).toBeUndefined();
    expect(config.auth.devTokens).toBe(true);
    expect(config.http.port).toBe(3000);
  });

  it('when a scaled process lacks its services, then start-up stops naming each variable', () => {
    expect(() => loadAppConfig('scaled', {})).toThrow(ConfigError);
    expect(() => loadAppConfig('scaled', {})).toThrow(
      /DATABASE_URL[\s\S]*REDIS_URL[\s\S]*JWT_SECRET/,
    );
  });

  it('when a value is wrong, then the message names the variable', () => {
    expect(() => loadAppConfig('embedded', { PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadAppConfig('embedded', { DATABASE_POOL_SIZE: '0' })).toThrow(
      /DATABASE_POOL_SIZE/,
    );
    expect(() => loadAppConfig('embedded', { JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET: must be at least 32/,
    );
  });

  it('when everything is set for scaled mode, then dev tokens are off unless asked for', () => {
    const config = loadAppConfig('scaled', {
      DATABASE_URL: 'postgres://db/app',
      REDIS_URL: 'redis://cache:6379',
      JWT_SECRET: 'x'.repeat(32),
      DATABASE_POOL_SIZE: '7',
    });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://db/app',
      poolSize: 7,
      timeouts: DEFAULT_POSTGRES_TIMEOUTS,
    });
    expect(config.redis).toEqual({
      url: 'redis://cache:6379',
      prefix: 'mm',
      timeouts: DEFAULT_REDIS_TIMEOUTS,
    });
    expect(config.auth.devTokens).toBe(false);
  });

  it('when the dependency timeouts are set, then every wait on PostgreSQL and Redis uses them', () => {
    const config = loadAppConfig('scaled', {
      DATABASE_URL: 'postgres://db/app',
      REDIS_URL: 'redis://cache:6379',
      JWT_SECRET: 'x'.repeat(32),
      DATABASE_ACQUIRE_TIMEOUT_MS: '1000',
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '2000',
      DATABASE_IDLE_TIMEOUT_MS: '3000',
      DATABASE_MAX_LIFETIME_SECONDS: '60',
      REDIS_CONNECT_TIMEOUT_MS: '700',
      REDIS_COMMAND_TIMEOUT_MS: '800',
      HEALTH_CHECK_TIMEOUT_MS: '900',
    });
    expect(config.database).toMatchObject({
      timeouts: {
        acquireMs: 1000,
        statementMs: 0,
        idleInTransactionMs: 2000,
        idleMs: 3000,
        maxLifetimeSeconds: 60,
      },
    });
    expect(config.redis?.timeouts).toEqual({ connectMs: 700, commandMs: 800 });
    expect(config.observability.healthCheckTimeoutMs).toBe(900);
  });

  it('when a variable is set but empty, then it counts as unset', () => {
    expect(loadAppConfig('embedded', { DATABASE_URL: '', PORT: '' }).database.kind).toBe('pglite');
  });
});
