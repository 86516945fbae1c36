import { sendMessage, type ChatSocket } from '@mm/client';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { connect, createUser, freshUserId, nextEvent } from '@mm/test-support/chat';
import { get, samples, total } from '@mm/test-support/http';
import { alertRules, dashboardQueries, metricFamilies } from '@mm/test-support/monitoring';
import {
  startApp,
  testRedisUrl,
  uniqueRedisPrefix,
  type RunningProcess,
} from '@mm/test-support/processes';

/**
 * Metrics and health of real api and gateway processes on the real Postgres and Redis, read after
 * real traffic: users, a match, socket messages and history reads.
 */
describe('metrics and health of the scaled apps', () => {
  let schema: TestSchema;
  let api: RunningProcess;
  let gateway: RunningProcess;
  const sockets: ChatSocket[] = [];
  /** The gateway's exposition before any traffic, and right after the first message's ack. */
  let gatewayAtStart: string;
  let gatewayAfterOneSend: string;

  beforeAll(async () => {
    schema = await createTestSchema('ops_scaled');
    const env = {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL: testRedisUrl,
      REDIS_PREFIX: uniqueRedisPrefix('ops'),
      JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256',
      DEV_TOKENS: 'true',
      AUTO_APPROVE_PROFILES: 'true',
      GATEWAY_DRAIN_WINDOW_SECONDS: '0',
    };
    [api, gateway] = await Promise.all([startApp('api', env), startApp('gateway', env)]);
    gatewayAtStart = (await get<string>(`${gateway.url}/metrics`)).text;

    const [ann, bob] = await Promise.all([
      createUser(api.url, freshUserId(), 'Ann'),
      createUser(api.url, freshUserId(), 'Bob'),
    ]);
    const annSocket = await connect(gateway.url, ann);
    const bobSocket = await connect(gateway.url, bob);
    sockets.push(annSocket, bobSocket);
    const bobHearsMatch = nextEvent(bobSocket, 'match:new');
    const match = await ann.rest.findMatch(ann.id);
    await bobHearsMatch;
    for (let i = 1; i <= 3; i++) {
      const delivered = nextEvent(bobSocket, 'message:new');
      await sendMessage(annSocket, { match_id: match.id, client_id: `m-${i}`, body: `hi ${i}` });
      await delivered;
      if (i === 1) gatewayAfterOneSend = (await get<string>(`${gateway.url}/metrics`)).text;
    }
    await sendMessage(annSocket, { match_id: match.id, client_id: 'm-1', body: 'hi 1' }); // a resend
    await bob.rest.history(match.id);
  }, 60_000);

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await Promise.all([api, gateway].map((p) => p?.stop()));
    await schema?.drop();
  });

  it('when traffic has gone through, then the API exports HTTP, DB, pool, Redis and process series', async () => {
    const { status, text } = await get<string>(`${api.url}/metrics`);
    expect(status).toBe(200);

    const history = { route: '/api/mystery/chat/:match_id', method: 'GET', status: '200' };
    expect(total(text, 'mm_http_request_duration_seconds_count', history)).toBeGreaterThanOrEqual(
      1,
    );
    const routes = samples(text, 'mm_http_request_duration_seconds_count').map(
      (s) => s.labels.route,
    );
    expect(routes).toEqual(expect.arrayContaining(['/api/mystery/find-match', '/api/users/me']));
    expect(routes.some((route) => /\/\d+/.test(route!))).toBe(false); // patterns, never ids

    expect(total(text, 'mm_db_query_duration_seconds_count', { kind: 'select' })).toBeGreaterThan(
      0,
    );
    expect(total(text, 'mm_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(
      samples(text, 'mm_db_pool_connections')
        .map((s) => s.labels.state)
        .sort(),
    ).toEqual(['idle', 'total', 'waiting']);
    expect(total(text, 'mm_db_pool_max')).toBe(4);
    expect(samples(text, 'mm_redis_adapter_errors_total')).toEqual([
      { labels: { connection: 'api-state', app: 'api' }, value: 0 },
      { labels: { connection: 'api-adapter-pub', app: 'api' }, value: 0 },
      { labels: { connection: 'api-adapter-sub', app: 'api' }, value: 0 },
    ]);
    expect(total(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(samples(text, 'nodejs_eventloop_lag_p99_seconds')).toHaveLength(1);
    expect(total(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(total(text, 'mm_process_memory_limit_bytes')).toBeGreaterThan(0);
    expect(samples(text, 'mm_http_requests_in_flight')).toHaveLength(1);
  });

  it('when messages were sent and delivered, then the gateway counts them and its sockets', async () => {
    const { status, text } = await get<string>(`${gateway.url}/metrics`);
    expect(status).toBe(200);

    expect(total(text, 'mm_sockets_connected', { app: 'gateway' })).toBe(2);
    expect(total(text, 'mm_messages_sent_total', { result: 'stored' })).toBe(3);
    expect(total(text, 'mm_messages_sent_total', { result: 'duplicate' })).toBe(1);
    // Bob's socket got each message:new; the resend is delivered again (receivers drop the seq).
    expect(total(text, 'mm_messages_delivered_total')).toBe(4);
    expect(total(text, 'mm_db_query_duration_seconds_count')).toBeGreaterThan(0);
    expect(samples(text, 'mm_redis_adapter_errors_total').map((s) => s.labels.connection)).toEqual(
      expect.arrayContaining(['gateway-adapter-pub', 'gateway-adapter-sub']),
    );
    expect(total(text, 'mm_redis_adapter_errors_total')).toBe(0);
    expect(total(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('when a gateway has just started, then its labelled counters are there at 0 for every known label', () => {
    // Without them, `increase()` would miss a pod's first message or error.
    expect(samples(gatewayAtStart, 'mm_messages_sent_total')).toEqual([
      { labels: { result: 'stored', app: 'gateway' }, value: 0 },
      { labels: { result: 'duplicate', app: 'gateway' }, value: 0 },
    ]);
    expect(
      samples(gatewayAtStart, 'mm_redis_adapter_errors_total')
        .map((s) => `${s.labels.connection}=${s.value}`)
        .sort(),
    ).toEqual(['gateway-adapter-pub=0', 'gateway-adapter-sub=0']);
    expect(samples(gatewayAtStart, 'mm_db_connection_errors_total')).toHaveLength(1);
    expect(total(gatewayAtStart, 'mm_db_connection_errors_total')).toBe(0);
    expect(total(gatewayAtStart, 'mm_message_ack_seconds_count')).toBe(0);
  });

  it('when one message is sent and acked, then mm_message_ack_seconds counts one ack', async () => {
    expect(total(gatewayAfterOneSend, 'mm_message_ack_seconds_count')).toBe(1);
    expect(total(gatewayAfterOneSend, 'mm_message_ack_seconds_sum')).toBeGreaterThan(0);
    // Every send is timed, the resend answered with the original too.
    const { text } = await get<string>(`${gateway.url}/metrics`);
    expect(total(text, 'mm_message_ack_seconds_count')).toBe(4);
  });

  it('when both apps are healthy, then /health reports resources and load, and readiness is 200', async () => {
    const apiHealth = await get(`${api.url}/health`);
    expect(apiHealth.status).toBe(200);
    expect(apiHealth.body).toMatchObject({
      status: 'ok',
      checks: {
        postgres: 'ok',
        redis_state: 'ok',
        redis_adapter_pub: 'ok',
        redis_adapter_sub: 'ok',
      },
      memory: {
        rss_bytes: expect.any(Number),
        percent: expect.any(Number),
        available_bytes: expect.any(Number),
        limit_bytes: expect.any(Number),
      },
      cpu: { percent: expect.any(Number), cores: expect.any(Number) },
      event_loop: { lag_p99_ms: expect.any(Number), lag_mean_ms: expect.any(Number) },
      in_flight_requests: expect.any(Number),
    });
    const gatewayHealth = await get(`${gateway.url}/health`);
    expect(gatewayHealth.body).toMatchObject({
      status: 'ok',
      sockets: 2,
      checks: {
        postgres: 'ok',
        redis_adapter_pub: 'ok',
        redis_adapter_sub: 'ok',
        redis_state: 'ok',
      },
    });

    for (const app of [api, gateway]) {
      expect((await get(`${app.url}/health/live`)).status).toBe(200);
      const ready = await get(`${app.url}/health/ready`);
      expect(ready).toMatchObject({ status: 200, body: { ready: true, status: 'ready' } });
      const pool = await get(`${app.url}/health/db-pool`);
      expect(pool.body).toMatchObject({
        kind: 'postgres',
        max: 4,
        total: expect.any(Number),
        idle: expect.any(Number),
        waiting: 0,
      });
    }
  });

  it('when the alert rules and the dashboard query series, then the apps export every one of them', async () => {
    const expositions = await Promise.all(
      [api, gateway].map((p) => get<string>(`${p.url}/metrics`)),
    );
    const exported = new Set(
      expositions.flatMap(({ text }) =>
        [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!),
      ),
    );
    const queried = [...alertRules().map((rule) => rule.expr), ...dashboardQueries()].flatMap(
      metricFamilies,
    );
    expect(queried.length).toBeGreaterThan(10);
    expect(queried.filter((family) => !exported.has(family))).toEqual([]);
  });
});
