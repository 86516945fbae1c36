import { sendMessage, type ChatSocket } from '@mm/client';
import type { MessageView, PresenceView } from '@mm/contract';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { connect, createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { eventually } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import {
  chatClient,
  holdsUpTo,
  killPod,
  scaledEnv,
  seqsOf,
  SwitchProxy,
  type Receiver,
} from '@mm/test-support/realtime';

/**
 * Gateway pods going away: killed without a word (kill -9) or drained on SIGTERM. Clients reach
 * the pods through a proxy that stands in for the load balancer, so they reconnect to another pod.
 */
describe('gateway pods going away', () => {
  let schema: TestSchema;
  let env: Record<string, string>;
  let api: RunningProcess;
  let survivor: RunningProcess;
  const running: RunningProcess[] = [];
  const sockets: ChatSocket[] = [];
  const receivers: Receiver[] = [];
  const proxies: SwitchProxy[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('failover');
    // A short presence TTL, so a killed pod's users expire within the test.
    env = scaledEnv(schema, 'failover', { PRESENCE_TTL_SECONDS: '2' });
    [api, survivor] = await Promise.all([startApp('api', env), startApp('gateway', env)]);
    running.push(api, survivor);
  }, 60_000);

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    receivers.forEach((receiver) => receiver.client.close());
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(running.map((p) => p.stop()));
    await schema?.drop();
  });

  async function gateway(extra: Record<string, string> = {}): Promise<RunningProcess> {
    const process = await startApp('gateway', { ...env, ...extra });
    running.push(process);
    return process;
  }

  async function proxyTo(target: RunningProcess): Promise<SwitchProxy> {
    const proxy = await new SwitchProxy(target.port).listen();
    proxies.push(proxy);
    return proxy;
  }

  async function open(url: string, user: TestUser): Promise<ChatSocket> {
    const socket = await connect(url, user);
    sockets.push(socket);
    return socket;
  }

  /** Two fresh users with a match; the first one asked for it. */
  async function pair(): Promise<{ first: TestUser; second: TestUser; matchId: number }> {
    const first = await createUser(api.url, freshUserId());
    const second = await createUser(api.url, freshUserId()); // the most recently active: the pick
    const match = await first.rest.findMatch(first.id);
    expect(match.partner_id).toBe(second.id);
    return { first, second, matchId: match.id };
  }

  it('when the receiver’s gateway is killed mid-stream, then after reconnecting and syncing it holds every acked message exactly once, and a user only on it goes offline', async () => {
    const doomed = await gateway();
    const proxy = await proxyTo(doomed);
    const { first: ann, second: bob, matchId } = await pair();
    const { first: dan, second: carl } = await pair();

    const annSocket = await open(survivor.url, ann);
    const danSocket = await open(survivor.url, dan);
    const annHears: PresenceView[] = [];
    annSocket.on('presence', (p) => annHears.push(p));
    const danHears: PresenceView[] = [];
    danSocket.on('presence', (p) => danHears.push(p));
    const bobReceiver = await chatClient({ url: proxy.url, token: bob.token });
    receivers.push(bobReceiver);
    const carlSocket = await connect(doomed.url, carl); // only ever on the doomed pod
    sockets.push(carlSocket);
    await eventually(
      async () => danHears.filter((p) => p.user_id === carl.id && p.online).length,
      (n) => n > 0,
    );

    const acked: MessageView[] = [];
    for (let i = 0; i < 150; i++) {
      if (i === 50) {
        // The load balancer now sends Bob to the surviving pod.
        await killPod(doomed, () => (proxy.target = survivor.port));
      }
      acked.push(
        await sendMessage(annSocket, { match_id: matchId, client_id: `k-${i}`, body: `k${i}` }),
      );
    }
    expect(await doomed.exited).toBeNull(); // killed by the signal, no exit code

    await holdsUpTo(bobReceiver, matchId, acked.at(-1)!.seq);
    const held = seqsOf(bobReceiver.messages, matchId);
    expect(new Set(held).size).toBe(held.length);
    expect([...held].sort((a, b) => a - b)).toEqual(acked.map((m) => m.seq));
    expect(bobReceiver.messages.map((m) => m.body).sort()).toEqual(acked.map((m) => m.body).sort());

    // Nobody closed Carl's socket on the dead pod; its entry expires and Dan is told.
    const carlGone = await eventually(
      async () => danHears.find((p) => p.user_id === carl.id && !p.online),
      (found) => found !== undefined,
    );
    expect(carlGone!.last_seen_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    // Bob moved to another pod: whatever Ann heard meanwhile, he ends up online.
    await eventually(
      async () => annHears.filter((p) => p.user_id === bob.id).at(-1),
      (last) => last === undefined || last.online,
    );
  }, 90_000);

  it('when a gateway drains on SIGTERM, then its clients are moved off in batches and every acked message is stored once, with no offline flicker', async () => {
    // Its presence entries outlive the clients' reconnect by far, so nobody should look offline.
    const draining = await gateway({
      GATEWAY_DRAIN_WINDOW_SECONDS: '2',
      PRESENCE_TTL_SECONDS: '10',
    });
    const proxy = await proxyTo(draining);
    const pairs = [await pair(), await pair(), await pair()];
    const senders = await Promise.all(
      pairs.map(({ first }) => chatClient({ url: proxy.url, token: first.token })),
    );
    receivers.push(...senders);
    const listeners = await Promise.all(pairs.map(({ second }) => open(survivor.url, second)));
    const heard = listeners.map((socket) => {
      const got: MessageView[] = [];
      socket.on('message:new', (m) => got.push(m));
      return got;
    });
    const presences: PresenceView[] = [];
    listeners.forEach((socket) => socket.on('presence', (p) => presences.push(p)));

    const sends = pairs.map(({ matchId }, p) =>
      Array.from({ length: 40 }, (_, i) =>
        senders[p]!.client.send(matchId, `p${p} m${i}`, `d-${i}`),
      ),
    );
    await Promise.all(sends.map((list) => list[9])); // some stored before the signal
    draining.child.kill('SIGTERM');
    proxy.target = survivor.port;

    const acked = await Promise.all(sends.map((list) => Promise.all(list)));
    expect(await draining.exited).toBe(0);
    const batches = draining.logs
      .map((line) => JSON.parse(line) as { msg?: string; disconnected?: number })
      .filter((entry) => entry.msg === 'drain batch' && entry.disconnected! > 0);
    expect(batches.length).toBeGreaterThan(1);
    // Moved to another pod within the presence TTL: their partners never saw them go offline.
    expect(presences.filter((p) => !p.online)).toEqual([]);

    for (const [p, { first, matchId }] of pairs.entries()) {
      const history = await first.rest.history(matchId, { limit: 100 });
      expect(history.messages.map((m) => m.seq)).toEqual(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      expect(history.messages.map((m) => m.client_id).sort()).toEqual(
        Array.from({ length: 40 }, (_, i) => `d-${i}`).sort(),
      );
      for (const message of acked[p]!) expect(history.messages).toContainEqual(message);
      await eventually(
        async () => new Set(heard[p]!.map((m) => m.seq)).size,
        (n) => n === 40,
      );
    }
  }, 90_000);
});
