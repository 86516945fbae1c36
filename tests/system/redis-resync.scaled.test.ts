import { execFileSync } from 'node:child_process';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { ChaosRedis } from '@mm/test-support/chaos-cluster';
import { FaultProxy } from '@mm/test-support/fault-proxy';
import { eventually, untilReady } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { chatClient, scaledEnv, seqsOf, type Receiver } from '@mm/test-support/realtime';

/**
 * A gateway pod whose Redis adapter connection drops while its sockets stay up (docs/design.md
 * §4.4): one API pod and two gateway pods, real processes, on a Redis server of the test's own.
 * Only gateway B reaches Redis through a fault proxy, so only its subscriber is away while Ann
 * (on gateway A, and over REST through the API pod) sends: Redis pub/sub keeps nothing for it, and
 * the messages are lost live for good. Bob, on gateway B, must still get them, the last one
 * included, without any later message revealing the gap: the pod asks its sockets to sync.
 */
describe('a gateway pod whose Redis subscription dropped', () => {
  let schema: TestSchema;
  let redis: ChaosRedis;
  let proxy: FaultProxy;
  const running: RunningProcess[] = [];
  const ends: Receiver[] = [];
  let ann: TestUser;
  let matchId: number;
  let annEnd: Receiver;
  let bobEnd: Receiver;

  /** The adapter subscribers Redis knows by name (a blackholed reconnect never gives its name). */
  const namedSubscribers = (): number =>
    execFileSync('redis-cli', ['-p', String(redis.port), 'CLIENT', 'LIST'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('name=gateway-adapter-sub ')).length;

  beforeAll(async () => {
    schema = await createTestSchema('redis-resync');
    redis = await ChaosRedis.create();
    proxy = await new FaultProxy(redis.port).listen();
    const env = scaledEnv(schema, 'redis-resync', { REDIS_URL: redis.url() });
    const [api, gatewayA, gatewayB] = await Promise.all([
      startApp('api', env),
      startApp('gateway', env),
      startApp('gateway', { ...env, REDIS_URL: redis.url(proxy.port) }),
    ]);
    running.push(api, gatewayA, gatewayB);
    await Promise.all(running.map((p) => untilReady(p.url)));
    expect(namedSubscribers()).toBe(2);

    ann = await createUser(api.url, freshUserId(), 'Ann');
    const bob = await createUser(api.url, freshUserId(), 'Bob');
    matchId = (await ann.rest.findMatch(ann.id)).id;
    annEnd = await chatClient({ url: gatewayA.url, token: ann.token, lastSeqs: { [matchId]: 0 } });
    bobEnd = await chatClient({ url: gatewayB.url, token: bob.token, lastSeqs: { [matchId]: 0 } });
    ends.push(annEnd, bobEnd);
  }, 90_000);

  afterAll(async () => {
    ends.forEach((end) => end.client.close());
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
    await proxy?.close();
    await redis?.stop();
    await schema?.drop();
  });

  it('when messages are stored while its subscriber reconnects, then the receiver on it gets them, the last one included, with no later message', async () => {
    // Live delivery across the pods works before the fault.
    const first = await annEnd.client.send(matchId, 'before');
    await eventually(
      async () => bobEnd.client.lastSeq(matchId),
      (held) => held >= first.seq,
    );

    // Gateway B's Redis connections are reset and its reconnects hang: its subscription is gone.
    proxy.blackhole();
    proxy.cut();
    await eventually(
      async () => namedSubscribers(),
      (n) => n === 1,
    );

    // Ann sends through gateway A, then over REST through the API pod (its emitter): both are
    // published while B hears nothing, and the REST one is the last message of the chat.
    const viaGateway = await annEnd.client.send(matchId, 'sent while B was away');
    const viaRest = await ann.rest.sendMessage({
      match_id: matchId,
      client_id: 'rest-during-outage',
      body: 'the last word',
    });
    expect(viaRest.seq).toBe(viaGateway.seq + 1);
    expect(bobEnd.client.lastSeq(matchId)).toBe(first.seq); // nothing can reach B now
    expect(bobEnd.client.connected).toBe(true);

    proxy.restore();

    await eventually(
      async () => bobEnd.client.lastSeq(matchId),
      (held) => held >= viaRest.seq,
      20_000,
    );
    expect(seqsOf(bobEnd.messages, matchId)).toEqual([first.seq, viaGateway.seq, viaRest.seq]);
    expect(bobEnd.messages.at(-1)?.body).toBe('the last word');
    expect(running[2]!.logs.some((line) => line.includes('sockets asked to sync'))).toBe(true);
  }, 60_000);
});
