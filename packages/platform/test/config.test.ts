import { defaultDomainRules } from '@mm/core';
import { DEFAULT_POSTGRES_TIMEOUTS } from '@mm/db';
import { ConfigError, isLoopbackHost, loadAppConfig } from '../src/config/env';
import { clusterSeeds, DEFAULT_REDIS_TIMEOUTS } from '../src/runtime/redis';

describe('loadAppConfig', () => {
  it('when nothing is set in the embedded default, then it uses PGlite, no Redis and dev tokens', () => {
    const config = loadAppConfig('embedded', {});
    expect(config.database).toEqual({ kind: 'pglite', dataDir: './.data' });
    expect(config.redis).toBeUndefined();
    expect(config.auth.devTokens).toBe(true);
    expect(config.http.port).toBe(3000);
  });

  it('when PGLITE_SETTINGS is set, then PGlite gets each name=value pair as a setting', () => {
    const config = loadAppConfig('embedded', {
      PGLITE_SETTINGS: ' shared_buffers=64MB  work_mem=8MB ',
    });
    expect(config.database).toEqual({
      kind: 'pglite',
      dataDir: './.data',
      settings: { shared_buffers: '64MB', work_mem: '8MB' },
    });
  });

  it('when PGLITE_SETTINGS holds something other than name=value pairs, then start-up stops naming it', () => {
    expect(() => loadAppConfig('embedded', { PGLITE_SETTINGS: 'shared_buffers 64MB' })).toThrow(
      /PGLITE_SETTINGS: not name=value: shared_buffers/,
    );
    expect(() => loadAppConfig('embedded', { PGLITE_SETTINGS: '=64MB' })).toThrow(ConfigError);
  });

  it("when no rule variable is set, then the rules are the domain's defaults, in both modes, but for profile review", () => {
    expect(loadAppConfig('embedded', {}).rules).toEqual(defaultDomainRules());
    expect(loadAppConfig('scaled', scaled).rules).toEqual({
      ...defaultDomainRules(),
      autoApproveProfiles: false,
    });
  });

  it('when AUTO_APPROVE_PROFILES is unset, then the embedded default approves profiles at once and a scaled deployment reviews them; set, it wins in either mode', () => {
    expect(loadAppConfig('embedded', {}).rules.autoApproveProfiles).toBe(true);
    expect(loadAppConfig('scaled', scaled).rules.autoApproveProfiles).toBe(false);
    const off = { AUTO_APPROVE_PROFILES: 'false' };
    expect(loadAppConfig('embedded', off).rules.autoApproveProfiles).toBe(false);
    expect(
      loadAppConfig('scaled', { ...scaled, AUTO_APPROVE_PROFILES: 'true' }).rules
        .autoApproveProfiles,
    ).toBe(true);
  });

  it('when nothing is set in the embedded default, then it listens on loopback only and trusts no X-Forwarded-For', () => {
    expect(loadAppConfig('embedded', {}).http).toMatchObject({
      host: '127.0.0.1',
      trustProxyHops: 0,
    });
  });

  it('when a scaled pod sets no HOST nor TRUST_PROXY_HOPS, then it listens everywhere behind one proxy', () => {
    expect(loadAppConfig('scaled', scaled).http).toMatchObject({
      host: '0.0.0.0',
      trustProxyHops: 1,
    });
    expect(loadAppConfig('embedded', { TRUST_PROXY_HOPS: '2' }).http.trustProxyHops).toBe(2);
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
      cluster: false,
      adapter: 'sharded',
    });
    expect(config.auth.devTokens).toBe(false);
  });

  it('when REDIS_CLUSTER is set, then REDIS_URL lists the seed nodes, and the classic adapter may be chosen', () => {
    const config = loadAppConfig('scaled', {
      DATABASE_URL: 'postgres://db/app',
      REDIS_URL: 'redis://a:7000, redis://b:7001',
      REDIS_CLUSTER: 'true',
      REDIS_ADAPTER: 'classic',
      JWT_SECRET: 'x'.repeat(32),
    });
    expect(config.redis).toMatchObject({
      url: 'redis://a:7000, redis://b:7001',
      cluster: true,
      adapter: 'classic',
    });
    expect(clusterSeeds(config.redis!.url).nodes).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
  });

  it('when REDIS_URL lists several nodes without REDIS_CLUSTER, or names no Redis, or the adapter is unknown, then it is refused', () => {
    const scaled = { DATABASE_URL: 'postgres://db/app', JWT_SECRET: 'x'.repeat(32) };
    expect(() =>
      loadAppConfig('scaled', { ...scaled, REDIS_URL: 'redis://a:7000,redis://b:7001' }),
    ).toThrow(/REDIS_CLUSTER=true/);
    expect(() =>
      loadAppConfig('scaled', {
        ...scaled,
        REDIS_URL: 'redis://a:7000,http://b',
        REDIS_CLUSTER: 'true',
      }),
    ).toThrow(/REDIS_URL/);
    expect(() =>
      loadAppConfig('scaled', { ...scaled, REDIS_URL: 'redis://a', REDIS_ADAPTER: 'fast' }),
    ).toThrow(/REDIS_ADAPTER/);
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

const scaled = {
  DATABASE_URL: 'postgres://db/app',
  REDIS_URL: 'redis://cache:6379',
  JWT_SECRET: 'x'.repeat(32),
};

describe('loadAppConfig where others can reach the process', () => {
  const refusal = (mode: 'embedded' | 'scaled', env: Record<string, string>): string => {
    try {
      loadAppConfig(mode, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('it started');
  };

  it('when the embedded default listens on every interface with no JWT_SECRET, then it refuses, naming the published secret and dev tokens', () => {
    const message = refusal('embedded', { HOST: '0.0.0.0' });
    expect(message).toMatch(/HOST=0\.0\.0\.0/);
    expect(message).toMatch(/JWT_SECRET is unset[\s\S]*published/);
    expect(message).toMatch(/DEV_TOKENS is on[\s\S]*DEV_TOKENS=false/);
  });

  it('when NODE_ENV=production, then even on loopback the published secret and dev tokens are refused', () => {
    const message = refusal('embedded', { NODE_ENV: 'production' });
    expect(message).toMatch(/NODE_ENV=production/);
    expect(message).toMatch(/JWT_SECRET/);
    expect(refusal('scaled', { ...scaled, NODE_ENV: 'production', DEV_TOKENS: 'true' })).toMatch(
      /DEV_TOKENS is on/,
    );
  });

  it('when a scaled pod on 0.0.0.0 turns dev tokens on, then it refuses unless ALLOW_INSECURE_DEV_TOKENS says so', () => {
    expect(refusal('scaled', { ...scaled, HOST: '0.0.0.0', DEV_TOKENS: 'true' })).toMatch(
      /ALLOW_INSECURE_DEV_TOKENS/,
    );
    const allowed = loadAppConfig('scaled', {
      ...scaled,
      HOST: '0.0.0.0',
      DEV_TOKENS: 'true',
      ALLOW_INSECURE_DEV_TOKENS: 'true',
    });
    expect(allowed.auth.devTokens).toBe(true);
  });

  it('when ALLOW_INSECURE_DEV_TOKENS is set but JWT_SECRET is not, then the published secret is still refused', () => {
    const message = refusal('embedded', { HOST: '0.0.0.0', ALLOW_INSECURE_DEV_TOKENS: 'true' });
    expect(message).toMatch(/JWT_SECRET is unset/);
    expect(message).not.toMatch(/DEV_TOKENS is on/);
  });

  it('when the embedded default on every interface has its own secret and no dev tokens, then it starts', () => {
    const config = loadAppConfig('embedded', {
      HOST: '0.0.0.0',
      JWT_SECRET: 'y'.repeat(32),
      DEV_TOKENS: 'false',
      NODE_ENV: 'production',
    });
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.auth).toEqual({ jwtSecret: 'y'.repeat(32), devTokens: false });
  });

  const provider = {
    JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
    JWT_ISSUER: 'https://idp.example.com/',
    JWT_AUDIENCE: 'mystery-match',
  };

  it('when an identity provider stands in for JWT_SECRET in production, with a key for discovery references, then it starts and accepts no HS256 token', () => {
    const config = loadAppConfig('scaled', {
      DATABASE_URL: 'postgres://db/app',
      REDIS_URL: 'redis://cache:6379',
      ...provider,
      PROFILE_REF_SECRET: 'r'.repeat(32),
      NODE_ENV: 'production',
    });
    expect(config.auth.tokens).toEqual({
      acceptHs256: false,
      identityProvider: {
        jwksUrl: provider.JWT_JWKS_URL,
        issuer: provider.JWT_ISSUER,
        audience: provider.JWT_AUDIENCE,
        cacheMaxAgeMs: 600_000,
        refetchCooldownMs: 30_000,
      },
    });
    expect(config.auth.profileRefSecret).toBe('r'.repeat(32));
  });

  it('when an identity provider is set without JWT_ISSUER and JWT_AUDIENCE, then it refuses, naming them', () => {
    expect(() => loadAppConfig('embedded', { JWT_JWKS_URL: provider.JWT_JWKS_URL })).toThrow(
      /JWT_ISSUER[\s\S]*JWT_AUDIENCE/,
    );
  });

  it('when only an identity provider is set where others reach the process, then discovery references still need a key of their own', () => {
    const message = refusal('embedded', { HOST: '0.0.0.0', DEV_TOKENS: 'false', ...provider });
    expect(message).toMatch(/PROFILE_REF_SECRET/);
    expect(message).not.toMatch(/JWT_SECRET is unset/);
  });

  it('when an identity provider is set but dev tokens are on where others reach the process, then the published secret is still refused', () => {
    const message = refusal('embedded', {
      HOST: '0.0.0.0',
      ALLOW_INSECURE_DEV_TOKENS: 'true',
      ...provider,
    });
    expect(message).toMatch(/JWT_SECRET is unset/);
  });

  it('when roles come from a groups claim, then the groups are read as comma-separated lists', () => {
    const config = loadAppConfig('embedded', {
      JWT_GROUPS_CLAIM: 'groups',
      JWT_MODERATOR_GROUPS: 'mods, support',
      JWT_ADMIN_GROUPS: 'admins',
    });
    expect(config.auth.tokens).toEqual({
      acceptHs256: true,
      roles: {
        groupsClaim: 'groups',
        groups: { moderator: ['mods', 'support'], admin: ['admins'] },
      },
    });
  });

  it('when a host is loopback in any spelling, then it counts as private; any other address does not', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: true });
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1'])
      expect({ host, loopback: isLoopbackHost(host) }).toEqual({ host, loopback: false });
  });
});
