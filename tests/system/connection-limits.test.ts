import { io, type Socket } from 'socket.io-client';
import { TokenService } from '@mm/core';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { freshUserId } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { eventually, untilReady } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { JWT_SECRET, scaledEnv } from '@mm/test-support/realtime';

type Outcome =
  | { connected: true; socket: Socket }
  | { connected: false; code?: string; details?: Record<string, unknown> };

const open: Socket[] = [];

/** One handshake with real sockets: connected, or the `connect_error` code it was refused with. */
function handshake(url: string, token: string, forwardedFor?: string): Promise<Outcome> {
  const socket = io(url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(forwardedFor && { extraHeaders: { 'x-forwarded-for': forwardedFor } }),
  });
  open.push(socket);
  return new Promise((resolve) => {
    socket.once('connect', () => resolve({ connected: true, socket }));
    socket.once(
      'connect_error',
      (error: Error & { data?: { code?: string; details?: Record<string, unknown> } }) => {
        socket.disconnect();
        resolve({ connected: false, code: error.data?.code, details: error.data?.details });
      },
    );
  });
}

const codeOf = (outcome: Outcome) => (outcome.connected ? 'connected' : outcome.code);

afterAll(() => open.forEach((socket) => socket.disconnect()));

describe('connection limits in the embedded default (in memory)', () => {
  let service: TestService;
  const tokens = new TokenService('a-secret-only-this-test-file-signs-with');

  beforeAll(async () => {
    service = await startTestService('connection_limits', {
      JWT_SECRET: 'a-secret-only-this-test-file-signs-with',
      MAX_SOCKETS_PER_USER: '3',
    });
  });
  afterAll(() => service?.stop());

  it('when a user holds the most sockets allowed, then the next handshake is refused TOO_MANY_CONNECTIONS while others connect, and a closed socket frees its place', async () => {
    const ann = tokens.sign(freshUserId());
    const held = await Promise.all([1, 2, 3].map(() => handshake(service.url, ann)));
    expect(held.map(codeOf)).toEqual(['connected', 'connected', 'connected']);
    const refused = await handshake(service.url, ann);
    expect(refused).toEqual({
      connected: false,
      code: 'TOO_MANY_CONNECTIONS',
      details: { limit: 3 },
    });
    expect(codeOf(await handshake(service.url, tokens.sign(freshUserId())))).toBe('connected');

    (held[0] as { socket: Socket }).socket.disconnect();
    const retried = await eventually(
      async () => {
        const outcome = await handshake(service.url, ann);
        return codeOf(outcome);
      },
      (code) => code === 'connected',
    );
    expect(retried).toBe('connected');
  });

  it('when a user connects and disconnects many times, then every closed socket is released', async () => {
    const bobId = freshUserId();
    const bob = tokens.sign(bobId);
    for (let i = 0; i < 10; i++) {
      const outcome = await handshake(service.url, bob);
      expect(codeOf(outcome)).toBe('connected');
      const socket = (outcome as { socket: Socket }).socket;
      const gone = new Promise((resolve) => socket.once('disconnect', resolve));
      socket.disconnect();
      await gone;
      await eventually(
        async () => service.service.services.connectionLimits.socketsPerUser.count(bobId),
        (count) => count === 0,
      );
    }
  });
});

describe('the per-address handshake limit in the embedded default', () => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService('handshake_limit', {
      HANDSHAKE_RATE_LIMIT_PER_IP: '5',
      HANDSHAKE_RATE_LIMIT_PER_IP_WINDOW_SECONDS: '60',
    });
  });
  afterAll(() => service?.stop());

  it('when one address opens handshakes past the limit, even with bad tokens and spoofed X-Forwarded-For, then the next is refused RATE_LIMITED with retry_after', async () => {
    const codes: (string | undefined)[] = [];
    for (let i = 1; i <= 5; i++) {
      codes.push(codeOf(await handshake(service.url, 'not-a-token', `203.0.113.${i}`)));
    }
    expect(codes).toEqual(Array(5).fill('UNAUTHENTICATED'));
    const refused = await handshake(service.url, 'not-a-token', '198.51.100.1');
    expect(refused).toMatchObject({ connected: false, code: 'RATE_LIMITED' });
    const retryAfter = Number(!refused.connected && refused.details?.retry_after);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
  });
});

describe('connection limits in scaled mode (two gateways, Redis)', () => {
  let schema: TestSchema;
  let gateways: RunningProcess[];
  const tokens = new TokenService(JWT_SECRET);

  beforeAll(async () => {
    schema = await createTestSchema('connection_limits_scaled');
    const env = scaledEnv(schema, 'connlimits', {
      MAX_SOCKETS_PER_USER: '2',
      HANDSHAKE_RATE_LIMIT_PER_IP: '6',
      HANDSHAKE_RATE_LIMIT_PER_IP_WINDOW_SECONDS: '60',
    });
    gateways = await Promise.all([startApp('gateway', env), startApp('gateway', env)]);
    // A pod listens before its Redis connection is up, and until then the handshake limit lets
    // handshakes through uncounted (it fails open while Redis is away, by design): traffic only
    // once each pod is ready, as behind the load balancer.
    await Promise.all(gateways.map((g) => untilReady(g.url)));
  }, 60_000);

  afterAll(async () => {
    open.forEach((socket) => socket.disconnect());
    await Promise.all((gateways ?? []).map((g) => g.stop()));
    await schema?.drop();
  });

  it('when handshakes from one client address (behind the trusted proxy) reach both pods, then they share one budget and other addresses go on', async () => {
    const [a, b] = gateways.map((g) => g.url) as [string, string];
    const client = '203.0.113.50';
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      codes.push(codeOf(await handshake(i % 2 ? b : a, tokens.sign(freshUserId()), client)));
    }
    expect(codes).toEqual(Array(6).fill('connected'));
    expect(codeOf(await handshake(a, tokens.sign(freshUserId()), client))).toBe('RATE_LIMITED');
    expect(codeOf(await handshake(b, tokens.sign(freshUserId()), client))).toBe('RATE_LIMITED');
    // What the client wrote itself left of the proxy's entry changes nothing.
    expect(codeOf(await handshake(b, tokens.sign(freshUserId()), `198.51.100.9, ${client}`))).toBe(
      'RATE_LIMITED',
    );
    expect(codeOf(await handshake(a, tokens.sign(freshUserId()), '203.0.113.51'))).toBe(
      'connected',
    );
    // Every handshake was counted: none went through because the store was unreachable.
    const uncounted = gateways.flatMap((g) => g.logs).filter((l) => l.includes('not limiting'));
    expect(uncounted).toEqual([]);
  });

  it('when a user holds the cap on one pod, then that pod refuses TOO_MANY_CONNECTIONS and the other pod still admits them (the cap is per pod)', async () => {
    const [a, b] = gateways.map((g) => g.url) as [string, string];
    const ann = tokens.sign(freshUserId());
    const address = '203.0.113.60';
    expect(codeOf(await handshake(a, ann, address))).toBe('connected');
    expect(codeOf(await handshake(a, ann, address))).toBe('connected');
    expect(codeOf(await handshake(a, ann, address))).toBe('TOO_MANY_CONNECTIONS');
    expect(codeOf(await handshake(b, ann, address))).toBe('connected');
  });
});
