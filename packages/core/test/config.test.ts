import { ConfigError, loadAppConfig } from '../src/config/env';

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
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://db/app', poolSize: 7 });
    expect(config.redis).toEqual({ url: 'redis://cache:6379', prefix: 'mm' });
    expect(config.auth.devTokens).toBe(false);
  });

  it('when a variable is set but empty, then it counts as unset', () => {
    expect(loadAppConfig('embedded', { DATABASE_URL: '', PORT: '' }).database.kind).toBe('pglite');
  });
});
