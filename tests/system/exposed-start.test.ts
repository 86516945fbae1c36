import { startApp } from '@mm/test-support/processes';

/** What an app does when it would start reachable by others with development authentication. */
describe('starting where others can reach the process', () => {
  const noServices = { DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', DEV_TOKENS: '' };

  const startFailure = async (...args: Parameters<typeof startApp>): Promise<string> => {
    const started = await startApp(...args).then(
      async (app) => {
        await app.stop();
        return 'it started';
      },
      (error: Error) => error.message,
    );
    return started;
  };

  it('when the embedded default is bound to 0.0.0.0 with no JWT_SECRET, then it exits 1 before listening and says why and what to set', async () => {
    const failure = await startFailure('embedded', { ...noServices, HOST: '0.0.0.0' }, 60_000);
    expect(failure).toMatch(/exited with 1 before listening/);
    expect(failure).toMatch(/Refusing to start with HOST=0\.0\.0\.0/);
    expect(failure).toMatch(/Set JWT_SECRET/);
    expect(failure).toMatch(/DEV_TOKENS=false/);
  }, 90_000);

  it('when a scaled API pod runs with NODE_ENV=production and dev tokens, then it exits 1 naming DEV_TOKENS', async () => {
    const failure = await startFailure(
      'api',
      {
        DATABASE_URL: 'postgres://127.0.0.1:5432/test',
        REDIS_URL: 'redis://127.0.0.1:6379',
        JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256',
        DEV_TOKENS: 'true',
        NODE_ENV: 'production',
      },
      60_000,
    );
    expect(failure).toMatch(/exited with 1 before listening/);
    expect(failure).toMatch(/NODE_ENV=production[\s\S]*DEV_TOKENS is on/);
  }, 90_000);
});
