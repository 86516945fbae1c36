import { io, type Socket } from 'socket.io-client';
import { TokenService } from '@mm/core';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { closedPort, eventually, get, total } from '@mm/test-support/http';
import {
  startApp,
  testRedisUrl,
  uniqueRedisPrefix,
  type RunningProcess,
} from '@mm/test-support/processes';

const JWT_SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

/**
 * Readiness apart from liveness, on real processes: readiness fails while a gateway drains and
 * while Postgres or Redis cannot be reached; liveness stays 200 throughout, so Kubernetes takes
 * the pod out of rotation without restarting it.
 */
describe('readiness and liveness', () => {
  let schema: TestSchema;
  let env: Record<string, string>;
  const running: RunningProcess[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('readiness');
    env = {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '2',
      REDIS_URL: testRedisUrl,
      REDIS_PREFIX: uniqueRedisPrefix('ready'),
      JWT_SECRET,
    };
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
    await schema?.drop();
  });

  async function start(app: 'api' | 'gateway', extra: Record<string, string> = {}) {
    const process = await startApp(app, { ...env, ...extra });
    running.push(process);
    return process;
  }

  it('when Postgres cannot be reached, then the API is unready but live', async () => {
    const port = await closedPort();
    const api = await start('api', {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
    });

    const ready = await eventually(
      () => get(`${api.url}/health/ready`),
      (answer) => answer.body.checks.redis_state === 'ok',
    );
    expect(ready).toMatchObject({
      status: 503,
      body: { ready: false, status: 'unavailable', checks: { postgres: 'down' } },
    });
    expect((await get(`${api.url}/health/live`)).status).toBe(200);
    expect((await get(`${api.url}/health`)).body).toMatchObject({
      status: 'degraded',
      checks: { postgres: 'down', redis_state: 'ok' },
    });
  }, 30_000);

  it('when Redis cannot be reached, then the gateway is unready but live, and counts adapter errors', async () => {
    const port = await closedPort();
    const gateway = await start('gateway', { REDIS_URL: `redis://127.0.0.1:${port}` });

    const ready = await get(`${gateway.url}/health/ready`);
    expect(ready).toMatchObject({
      status: 503,
      body: {
        ready: false,
        status: 'unavailable',
        checks: {
          postgres: 'ok',
          redis_adapter_pub: 'down',
          redis_adapter_sub: 'down',
          redis_state: 'down',
        },
      },
    });
    expect((await get(`${gateway.url}/health/live`)).status).toBe(200);
    const metrics = await eventually(
      () => get<string>(`${gateway.url}/metrics`),
      (answer) => total(answer.text, 'mm_redis_adapter_errors_total') > 0,
    );
    expect(
      total(metrics.text, 'mm_redis_adapter_errors_total', { connection: 'gateway-adapter-sub' }),
    ).toBeGreaterThan(0);
  }, 30_000);

  it('when a gateway gets SIGTERM with clients connected, then it turns unready, stays live while it moves them off, and exits', async () => {
    // Two clients over a 6 s window: the drain closes one 3 s in (once readiness has taken the pod
    // out of rotation) and the other at the end.
    const gateway = await start('gateway', { GATEWAY_DRAIN_WINDOW_SECONDS: '6' });
    await eventually(
      () => get(`${gateway.url}/health/ready`),
      (answer) => answer.status === 200,
    );
    const tokens = new TokenService(JWT_SECRET);
    const clients: Socket[] = [4242, 4243].map((userId) =>
      io(gateway.url, {
        auth: { token: tokens.sign(userId) },
        transports: ['websocket'],
        reconnection: false,
      }),
    );
    await Promise.all(
      clients.map(
        (client) =>
          new Promise<void>((resolve, reject) => {
            client.once('connect', resolve);
            client.once('connect_error', reject);
          }),
      ),
    );
    const disconnected = clients.map(
      (client) => new Promise<string>((resolve) => client.once('disconnect', resolve)),
    );

    gateway.child.kill('SIGTERM');
    const draining = await eventually(
      () => get(`${gateway.url}/health/ready`),
      (answer) => answer.status !== 200,
    );
    expect(draining).toMatchObject({ status: 503, body: { ready: false, status: 'draining' } });
    expect((await get(`${gateway.url}/health/live`)).status).toBe(200);
    expect((await get(`${gateway.url}/health`)).body).toMatchObject({
      status: 'draining',
      sockets: 2,
    });

    // One batch at a time: when the first client is moved off, the other is still connected.
    await Promise.race(disconnected);
    expect(clients.filter((client) => client.connected)).toHaveLength(1);
    // The server closed both transports (a client-side disconnect would say "io client disconnect").
    expect(await Promise.all(disconnected)).toEqual(['transport close', 'transport close']);
    expect(await gateway.exited).toBe(0);
  }, 30_000);
});
