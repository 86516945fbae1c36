import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { bootstrap, createLogger, loadAppConfig } from '../src';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('bootstrap', () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema('bootstrap');
  });

  afterAll(async () => {
    await schema?.drop();
  });

  it('when a scaled process starts, then readiness checks its database and the Redis connections it names, queries are timed, and close ends them all', async () => {
    const config = loadAppConfig('scaled', {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redisUrl,
      JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters',
    });
    const logger = createLogger({ level: 'silent', name: 'bootstrap-test' });
    const platform = await bootstrap('api', config, logger, { migrate: true });
    const redis = platform.connectRedis('state', { countErrors: true });
    const health = platform.createHealthChecks({ redis: { state: redis } });
    await redis.ping();

    expect(await health.ready()).toEqual({
      ready: true,
      status: 'ready',
      checks: { postgres: 'ok', redis_state: 'ok' },
    });
    const { body } = await platform.metrics.exposition();
    expect(body).toMatch(/mm_db_query_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(body).toMatch(/mm_redis_adapter_errors_total\{[^}]*connection="state"[^}]*\} 0/);

    await platform.close();
    await expect(redis.ping()).rejects.toThrow(/closed/i);
    expect(platform.database.pool?.ending).toBe(true);
  });

  it('when a connection to Redis is asked for without REDIS_URL, then it says so', async () => {
    const config = loadAppConfig('embedded', {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
    });
    const platform = await bootstrap(
      'embedded',
      config,
      createLogger({ level: 'silent', name: 't' }),
    );
    try {
      expect(() => platform.connectRedis('state')).toThrow(/REDIS_URL/);
    } finally {
      await platform.close();
    }
  });
});
