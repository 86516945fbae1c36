import { sendMessage, type ChatSocket, type MessageView } from '@mm/client';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { connect, createUser, freshUserId, nextEvent } from '@mm/test-support/chat';
import { eventually, get, total } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { scaledEnv } from '@mm/test-support/realtime';
import { redisFor, type RedisKind } from '@mm/test-support/redis-cluster';

const GATEWAYS = 4;
/** Messages each pair sends: below the first unlock level, so a send is one room broadcast. */
const SENDS = 10;

/**
 * The fan-out of a message across gateway pods (docs/design.md §5), counted by each gateway's
 * `mm_adapter_messages_received_total`: four gateways, one matched pair on each, every pair
 * sending the same number of messages. With the classic adapter every gateway reads every pair's
 * messages; with the sharded one each reads only those of the rooms it holds a socket of, on a
 * single Redis and on a three-master Redis Cluster alike.
 */
const setups: ['classic' | 'sharded', RedisKind][] = [
  ['classic', 'standalone'],
  ['sharded', 'standalone'],
  ['sharded', 'cluster'],
];
describe.each(setups)('the %s adapter across four gateways on %s Redis', (mode, redisKind) => {
  let redis: Awaited<ReturnType<typeof redisFor>> | undefined;
  let schema: TestSchema;
  let api: RunningProcess;
  let gateways: RunningProcess[] = [];
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema(`fanout_${mode}`);
    redis = await redisFor(redisKind);
    const env = scaledEnv(schema, `fanout-${mode}`, { ...redis.env, REDIS_ADAPTER: mode });
    [api, ...gateways] = await Promise.all([
      startApp('api', env),
      ...Array.from({ length: GATEWAYS }, () =>
        startApp('gateway', { ...env, GATEWAY_DRAIN_WINDOW_SECONDS: '0' }),
      ),
    ]);
  }, 60_000);

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    const codes = await Promise.all([api, ...gateways].map((p) => p?.stop()));
    await schema?.drop();
    await redis?.stop();
    expect(codes).toEqual(Array.from({ length: GATEWAYS + 1 }, () => 0));
  });

  /** A matched pair with both users' sockets on `gateway`. */
  async function pairOn(gateway: RunningProcess) {
    const [ann, bob] = await Promise.all([
      createUser(api.url, freshUserId(), 'Ann'),
      createUser(api.url, freshUserId(), 'Bob'),
    ]);
    const [annSocket, bobSocket] = await Promise.all([
      connect(gateway.url, ann),
      connect(gateway.url, bob),
    ]);
    sockets.push(annSocket, bobSocket);
    const bobHears = nextEvent(bobSocket, 'match:new');
    const match = await ann.rest.findMatch(ann.id);
    await bobHears;
    return { annSocket, bobSocket, matchId: match.id };
  }

  const received = async (gateway: RunningProcess) =>
    total((await get<string>(`${gateway.url}/metrics`)).text, 'mm_adapter_messages_received_total');

  it(`when a pair on each gateway sends ${SENDS} messages, then each gateway reads ${mode === 'classic' ? "every pair's" : "only its own pair's"}`, async () => {
    const pairs = [];
    for (const gateway of gateways) pairs.push(await pairOn(gateway));
    const before = await Promise.all(gateways.map(received));

    await Promise.all(
      pairs.map(async ({ annSocket, bobSocket, matchId }, p) => {
        const delivered: MessageView[] = [];
        bobSocket.on('message:new', (message) => delivered.push(message));
        for (let i = 0; i < SENDS; i++)
          await sendMessage(annSocket, {
            match_id: matchId,
            client_id: `f${p}-${i}`,
            body: `m${i}`,
          });
        await eventually(
          async () => delivered.length,
          (n) => n >= SENDS,
        );
      }),
    );
    const all = SENDS * GATEWAYS;
    // The classic adapter's reads arrive on every pod, not only those that deliver: wait for all.
    const after = await eventually(
      () => Promise.all(gateways.map(received)),
      (counts) => mode === 'sharded' || counts.every((count, g) => count - before[g]! >= all),
    );
    const read = after.map((count, g) => count - before[g]!);

    if (mode === 'classic') {
      // Every gateway read every pair's messages (presence and the like may add a few).
      read.forEach((count) => expect(count).toBeGreaterThanOrEqual(all));
    } else {
      // Each gateway read its own pair's broadcasts and none of the other three pairs'. A message
      // is two of them (`message:new` to the match room, `unread:total` to the recipient's room);
      // another pair's messages would add at least SENDS more, past the bound.
      read.forEach((count) => {
        expect(count).toBeGreaterThanOrEqual(SENDS);
        expect(count).toBeLessThan(3 * SENDS);
      });
    }
  }, 60_000);
});
