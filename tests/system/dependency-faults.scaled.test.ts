import { io } from 'socket.io-client';
import { RestClient, sendMessage, type ChatSocket } from '@mm/client';
import type { MessageView } from '@mm/contract';
import { TokenService } from '@mm/core';
import { insertActiveMatch, orderedPair, upsertUserProfile, type DatabaseHandle } from '@mm/db';
import {
  createTestRole,
  createTestSchema,
  openTestDatabase,
  type TestSchema,
} from '@mm/db/testing';
import { connect, freshUserId, type TestUser } from '@mm/test-support/chat';
import { FaultProxy } from '@mm/test-support/fault-proxy';
import { closedPort, eventually, get, total } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { chatClient, JWT_SECRET, scaledEnv } from '@mm/test-support/realtime';

/** The bounds the processes run with here: small, so a fault shows within a test's patience. */
const ACQUIRE_TIMEOUT_MS = 1_000;
const BOUNDS = {
  DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
  DATABASE_STATEMENT_TIMEOUT_MS: '500',
  REDIS_CONNECT_TIMEOUT_MS: '1000',
  REDIS_COMMAND_TIMEOUT_MS: '500',
  HEALTH_CHECK_TIMEOUT_MS: '500',
};

const throughProxy = (url: string, proxy: FaultProxy) => {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString();
};

/** A REST call, timed, with the Retry-After header. */
async function timedGet(url: string, token: string) {
  const started = Date.now();
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await response.json()) as { error?: { code: string } };
  return {
    status: response.status,
    body,
    retryAfter: response.headers.get('retry-after'),
    ms: Date.now() - started,
  };
}

const alive = (process: RunningProcess) =>
  process.child.exitCode === null && process.child.signalCode === null;

/**
 * PostgreSQL and Redis failing under a running api and gateway, through a fault-injecting proxy
 * (packages/test-support/src/fault-proxy.ts) so the machine's servers are never touched: no fault ends a
 * process, nothing hangs past its configured bound, clients are told UNAVAILABLE (retryable) while
 * it lasts, and everything serves again by itself when the dependency is back.
 */
describe('dependency faults under a scaled api and gateway', () => {
  let schema: TestSchema;
  let database: DatabaseHandle;
  let pg: FaultProxy;
  let redis: FaultProxy;
  let env: Record<string, string>;
  let api: RunningProcess;
  let gateway: RunningProcess;
  let ann: TestUser;
  let matchId: number;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('dependency_faults');
    database = await openTestDatabase(schema, 2);
    pg = await new FaultProxy(Number(new URL(schema.url).port || 5432)).listen();
    const base = scaledEnv(schema, 'deps', BOUNDS);
    redis = await new FaultProxy(Number(new URL(base.REDIS_URL!).port || 6379)).listen();
    env = {
      ...base,
      DATABASE_URL: throughProxy(schema.url, pg),
      REDIS_URL: throughProxy(base.REDIS_URL!, redis),
    };
    [api, gateway] = await Promise.all([startApp('api', env), startApp('gateway', env)]);

    const [annId, bobId] = [freshUserId(), freshUserId()];
    await upsertUserProfile(database.db, annId, { display_name: 'Ann' });
    await upsertUserProfile(database.db, bobId, { display_name: 'Bob' });
    const match = await insertActiveMatch(database.db, {
      ...orderedPair(annId, bobId),
      created_by: annId,
      expires_at: new Date(Date.now() + 3_600_000),
    });
    matchId = match!.id;
    const token = new TokenService(JWT_SECRET).sign(annId);
    ann = { id: annId, token, rest: new RestClient(api.url, () => token) };
  }, 60_000);

  afterEach(() => {
    pg.restore();
    redis.restore();
  });

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    const codes = await Promise.all([api, gateway].filter(Boolean).map((p) => p.stop()));
    await Promise.all([pg?.close(), redis?.close()]);
    await database?.close();
    await schema?.drop();
    expect(codes).toEqual([0, 0]);
  });

  it('when PostgreSQL drops every connection (as a restart does), then no process exits and both serve again', async () => {
    // Pool connections on both sides, idle once these are answered.
    await ann.rest.myMatches(ann.id);
    const socket = await connect(gateway.url, ann);
    sockets.push(socket);

    pg.cut();

    for (const process of [api, gateway]) {
      await eventually(
        () => get<string>(`${process.url}/metrics`),
        (answer) => total(answer.text, 'mm_db_connection_errors_total') > 0,
      );
    }
    expect(await ann.rest.myMatches(ann.id)).toEqual([expect.objectContaining({ id: matchId })]);
    const sent = await sendMessage(socket, {
      match_id: matchId,
      client_id: 'after-cut',
      body: 'still here',
    });
    expect(sent.body).toBe('still here');
    expect([alive(api), alive(gateway)]).toEqual([true, true]);
  }, 30_000);

  it('when PostgreSQL is blackholed, then REST answers 503 UNAVAILABLE with Retry-After within the acquire timeout, sends and handshakes are refused UNAVAILABLE, and all resumes once it answers', async () => {
    const socket = await connect(gateway.url, ann);
    sockets.push(socket);
    const sdk = await chatClient({ url: gateway.url, token: ann.token });

    pg.blackhole();

    const answer = await timedGet(`${api.url}/api/mystery/my-matches/${ann.id}`, ann.token);
    expect(answer).toMatchObject({
      status: 503,
      body: { error: { code: 'UNAVAILABLE' } },
      retryAfter: '2',
    });
    expect(answer.ms).toBeLessThan(ACQUIRE_TIMEOUT_MS + 500);

    const refused = await socket
      .timeout(ACQUIRE_TIMEOUT_MS + 2_000)
      .emitWithAck('message:send', { match_id: matchId, client_id: 'in-outage', body: 'x' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });

    const handshakeStarted = Date.now();
    const handshake = io(gateway.url, {
      auth: { token: ann.token },
      transports: ['websocket'],
      reconnection: false,
    });
    const refusal = await new Promise<{ data?: { code?: string } }>((resolve) =>
      handshake.once('connect_error', resolve),
    );
    handshake.close();
    expect(refusal.data?.code).toBe('UNAVAILABLE');
    expect(Date.now() - handshakeStarted).toBeLessThan(ACQUIRE_TIMEOUT_MS + 1_000);

    for (const process of [api, gateway]) {
      expect((await get(`${process.url}/health/live`)).status).toBe(200);
      const ready = await eventually(
        () => get(`${process.url}/health/ready`),
        (r) => r.status === 503,
      );
      expect(ready.body).toMatchObject({ ready: false, checks: { postgres: 'down' } });
    }

    // The SDK's send is refused (UNAVAILABLE) and retried with backoff until it is stored.
    const refusalsBefore = gateway.logs.filter((l) => l.includes('dependency unavailable')).length;
    const delivered = sdk.client.send(matchId, 'through the outage', 'sdk-outage');
    await eventually(
      async () => gateway.logs.filter((l) => l.includes('dependency unavailable')).length,
      (count) => count > refusalsBefore,
    );
    expect(sdk.client.unacked).toBe(1);

    pg.restore();

    for (const process of [api, gateway]) {
      await eventually(
        () => get(`${process.url}/health/ready`),
        (r) => r.status === 200,
      );
    }
    expect((await delivered).body).toBe('through the outage');
    expect(await ann.rest.myMatches(ann.id)).toEqual([expect.objectContaining({ id: matchId })]);
    const stored = await database.db
      .selectFrom('messages')
      .select('client_id')
      .where('client_id', '=', 'sdk-outage')
      .execute();
    expect(stored).toHaveLength(1);
    sdk.client.close();
    expect([alive(api), alive(gateway)]).toEqual([true, true]);
  }, 60_000);

  it('when Redis is blackholed, then both pods turn unready but live, a send that needs its count is refused UNAVAILABLE, reads still answer, and all resumes once it answers', async () => {
    redis.blackhole();

    for (const process of [api, gateway]) {
      const ready = await eventually(
        () => get(`${process.url}/health/ready`),
        (r) => r.status === 503,
      );
      expect(ready.body).toMatchObject({ ready: false, status: 'unavailable' });
      expect((await get(`${process.url}/health/live`)).status).toBe(200);
    }
    // The per-user message count lives in Redis: the send waits at most the command timeout.
    const started = Date.now();
    const refused = await ann.rest
      .sendMessage({ match_id: matchId, client_id: 'redis-hole', body: 'a' })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 503, error: { code: 'UNAVAILABLE' } });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The REST rate limits let requests through while their store is away.
    expect(await ann.rest.myMatches(ann.id)).toEqual([expect.objectContaining({ id: matchId })]);

    redis.restore();

    for (const process of [api, gateway]) {
      await eventually(
        () => get(`${process.url}/health/ready`),
        (r) => r.status === 200,
      );
    }
    // Ready means each connection answered a PING; on a loaded machine a connection's first
    // commands after that may still meet the command timeout. A client resends with the same
    // client_id (idempotent): it must go through within the bound, and be stored once.
    const sent = await eventually(
      () =>
        ann.rest
          .sendMessage({ match_id: matchId, client_id: 'redis-hole', body: 'a' })
          .catch((error: unknown) => error),
      (result) => !(result instanceof Error),
    );
    expect(sent).toMatchObject({ body: 'a' });
    const stored = await database.db
      .selectFrom('messages')
      .select('client_id')
      .where('client_id', '=', 'redis-hole')
      .execute();
    expect(stored).toHaveLength(1);
    expect([alive(api), alive(gateway)]).toEqual([true, true]);
  }, 60_000);

  it("when Redis drops every connection (as a restart does), then the gateway subscribes again and the API's broadcasts reach its sockets", async () => {
    const socket = await connect(gateway.url, ann);
    sockets.push(socket);

    redis.cut();

    // Until the adapter has subscribed again a broadcast may be missed (clients sync it): send
    // until one arrives live. (Broadcasts held up by the earlier faults may arrive too.)
    const arrived: MessageView[] = [];
    socket.on('message:new', (message) => arrived.push(message));
    let attempt = 0;
    const live = await eventually(
      async () => {
        await ann.rest
          .sendMessage({ match_id: matchId, client_id: `after-redis-cut-${attempt++}`, body: 'r' })
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 500));
        return arrived.find((message) => message.client_id?.startsWith('after-redis-cut-'));
      },
      (message) => message !== undefined,
    );
    expect(live).toMatchObject({ match_id: matchId, body: 'r' });
    expect([alive(api), alive(gateway)]).toEqual([true, true]);
  }, 60_000);

  it('when Redis refuses connections, then the API answers an unmatch whose broadcast cannot be published, and does not exit', async () => {
    const [carl, dora] = [freshUserId(), freshUserId()];
    await upsertUserProfile(database.db, carl, { display_name: 'Carl' });
    await upsertUserProfile(database.db, dora, { display_name: 'Dora' });
    const match = await insertActiveMatch(database.db, {
      ...orderedPair(carl, dora),
      created_by: carl,
      expires_at: new Date(Date.now() + 3_600_000),
    });
    const apiWithoutRedis = await startApp('api', {
      ...env,
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
    });
    try {
      const token = new TokenService(JWT_SECRET).sign(carl);
      const rest = new RestClient(apiWithoutRedis.url, () => token);
      const errorsNow = async () =>
        total(
          (await get<string>(`${apiWithoutRedis.url}/metrics`)).text,
          'mm_redis_adapter_errors_total',
        );

      const ended = await rest.unmatch(match!.id);
      expect(ended.status).toBe('unmatched');
      // ioredis gives a queued command up after 3 failed reconnects: wait well past that.
      const before = await errorsNow();
      await eventually(errorsNow, (errors) => errors >= before + 5);
      expect((await get(`${apiWithoutRedis.url}/health/live`)).status).toBe(200);
      expect(alive(apiWithoutRedis)).toBe(true);
    } finally {
      await apiWithoutRedis.stop('SIGKILL');
    }
  }, 60_000);
});

describe('the embedded default on PostgreSQL, started while PostgreSQL does not answer', () => {
  // A role and schema of its own, not migrated: the embedded process migrates it on start.
  let schema: TestSchema;
  let pg: FaultProxy;
  let embedded: RunningProcess | undefined;

  /** Polls until `done` holds; throws after 15 s. */
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 15_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('condition not reached in 15 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  beforeAll(async () => {
    schema = await createTestRole('embedded_wait');
    pg = await new FaultProxy(Number(new URL(schema.url).port || 5432)).listen();
  });

  afterAll(async () => {
    await embedded?.stop();
    await pg?.close();
    await schema?.drop();
  });

  it('when its start-up migration cannot reach PostgreSQL, then it waits and starts once PostgreSQL answers', async () => {
    pg.blackhole();
    const starting = startApp(
      'embedded',
      {
        DATABASE_URL: throughProxy(schema.url, pg),
        DATABASE_SCHEMA: schema.schema,
        DATABASE_ACQUIRE_TIMEOUT_MS: '500',
      },
      60_000,
    );
    starting.catch(() => undefined); // awaited below; a failure here must not go unhandled
    // A second connection: the first attempt gave up (acquire timeout) and the migration was
    // tried again instead of the process exiting. (The proxy keeps the abandoned connection
    // half-open while it blackholes, so connections only add up.)
    await until(() => pg.connections >= 2);

    pg.restore();

    embedded = await starting;
    expect(
      await eventually(
        () => get(`${embedded!.url}/health/ready`),
        (r) => r.status === 200,
      ),
    ).toMatchObject({ body: { ready: true } });
  }, 60_000);
});
