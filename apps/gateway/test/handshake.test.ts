import { createServer, ServerResponse, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { matchRoom, userRoom } from '@mm/contract';
import { createLogger } from '@mm/platform';
import { freshUserId } from '@mm/test-support/chat';
import { eventually } from '@mm/test-support/http';
import { openTestServices, type TestServices } from '@mm/test-support/services';
import { registerGateway } from '../src/gateway';
import { createSocketServer, type GatewayServer } from '../src/socket-server';

type Outcome = { connected: ClientSocket } | { refused: { code: string; details?: any } };

/**
 * The handshake of `registerGateway` on one real Socket.IO server in this process, over a test
 * schema of its own (no Redis, no child process): each step refuses with its `connect_error` code,
 * in the order the gateway documents, and an admitted socket is in its rooms before `connect`.
 */
describe('the gateway handshake', () => {
  const HANDSHAKES_PER_IP = 16;
  let http: HttpServer;
  let io: GatewayServer;
  let domain: TestServices;
  let url: string;
  const open: ClientSocket[] = [];

  /** One handshake: resolves with the connected socket or with the refusal's `data`. */
  function handshake(auth: Record<string, unknown>): Promise<Outcome> {
    const socket = ioClient(url, { auth, transports: ['websocket'], reconnection: false });
    open.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve({ connected: socket }));
      socket.once('connect_error', (error: Error & { data?: any }) =>
        resolve({ refused: error.data }),
      );
    });
  }

  const token = (userId: number) => domain.services.tokens.sign(userId);

  async function newUser(): Promise<number> {
    const id = freshUserId();
    await domain.services.users.saveProfile(id, { display_name: `user ${id}`, interests: [] });
    return id;
  }

  beforeAll(async () => {
    http = createServer();
    io = createSocketServer(http);
    domain = await openTestServices('gateway_handshake', {
      broadcaster: io,
      rules: {
        maxSocketsPerUser: 2,
        handshakeRatePerIp: { points: HANDSHAKES_PER_IP, windowSeconds: 60 },
      },
    });
    registerGateway(io, {
      services: domain.services,
      logger: createLogger({ level: 'silent', name: 'gateway_handshake' }),
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    for (const socket of open.splice(0)) socket.close();
  });

  afterAll(async () => {
    await io?.close();
    await domain?.close();
  });

  it('when there is no token or it does not verify, then the handshake is refused with UNAUTHENTICATED', async () => {
    const id = await newUser();
    expect(await handshake({})).toEqual({ refused: { code: 'UNAUTHENTICATED' } });
    expect(await handshake({ token: 42 })).toEqual({ refused: { code: 'UNAUTHENTICATED' } });
    expect(await handshake({ token: `${token(id)}x` })).toEqual({
      refused: { code: 'UNAUTHENTICATED' },
    });
  });

  it('when the token verifies, then the socket is in its user room and its match rooms before connect', async () => {
    const [ann, bob] = [await newUser(), await newUser()];
    const match = await domain.database.db
      .insertInto('matches')
      .values({
        user_a: ann,
        user_b: bob,
        created_by: ann,
        expires_at: new Date(Date.now() + 3.6e6),
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const outcome = await handshake({ token: token(ann) });
    expect(outcome).toHaveProperty('connected');
    const [server] = await io.in(userRoom(ann)).fetchSockets();
    expect(server?.data.userId).toBe(ann);
    expect([...server!.rooms]).toEqual(
      expect.arrayContaining([userRoom(ann), matchRoom(match.id)]),
    );
  });

  it('when sockets are admitted, then their handshake is one shared record that keeps no token', async () => {
    const [ann, bob] = [await newUser(), await newUser()];
    expect(await handshake({ token: token(ann) })).toHaveProperty('connected');
    expect(await handshake({ token: token(bob) })).toHaveProperty('connected');
    const [annSocket] = await io.in(userRoom(ann)).fetchSockets();
    const [bobSocket] = await io.in(userRoom(bob)).fetchSockets();
    expect(annSocket!.handshake.auth).toEqual({});
    expect(annSocket!.handshake).toBe(bobSocket!.handshake);
  });

  it('when a socket closes, then the presence heartbeat no longer refreshes it', async () => {
    const id = await newUser();
    const { presence } = domain.services;
    const client = ((await handshake({ token: token(id) })) as { connected: ClientSocket })
      .connected;
    await presence.heartbeat();
    expect((await presence.status(id)).online).toBe(true);

    client.close();
    await eventually(
      () => presence.status(id),
      (status) => !status.online,
    );
    await presence.heartbeat();
    expect((await presence.status(id)).online).toBe(false);
  });

  it('when the account was deleted, then its still valid token is refused with ACCOUNT_DELETED', async () => {
    const id = await newUser();
    await domain.services.users.deleteAccount(id);
    expect(await handshake({ token: token(id) })).toEqual({ refused: { code: 'ACCOUNT_DELETED' } });
  });

  it('when a user holds as many sockets as allowed, then one more is refused with TOO_MANY_CONNECTIONS until one closes', async () => {
    const id = await newUser();
    const first = await handshake({ token: token(id) });
    expect(await handshake({ token: token(id) })).toHaveProperty('connected');
    expect(await handshake({ token: token(id) })).toMatchObject({
      refused: { code: 'TOO_MANY_CONNECTIONS' },
    });

    const firstSocket = (first as { connected: ClientSocket }).connected;
    const released = new Promise((resolve) =>
      io.sockets.sockets.get(firstSocket.id!)!.once('disconnect', resolve),
    );
    firstSocket.close();
    await released;
    expect(await handshake({ token: token(id) })).toHaveProperty('connected');
  });

  it("when a WebSocket upgrade was answered, then Engine.IO's stand-in response no longer holds the request", async () => {
    const upgrades: { req?: unknown }[] = [];
    io.engine.use((_request: unknown, response: { req?: unknown }, next: () => void) => {
      if (!(response instanceof ServerResponse)) upgrades.push(response);
      next();
    });
    expect(await handshake({})).toEqual({ refused: { code: 'UNAUTHENTICATED' } });
    expect(upgrades).toHaveLength(1);
    expect(upgrades[0]!.req).toBeNull();
  });

  // Last: it spends what is left of this address's handshakes.
  it('when one address opens more handshakes than its limit, then the next is refused with RATE_LIMITED and a retry_after', async () => {
    let outcome: Outcome = await handshake({});
    let attempts = 1;
    while (!('refused' in outcome && outcome.refused.code === 'RATE_LIMITED')) {
      expect(attempts).toBeLessThanOrEqual(HANDSHAKES_PER_IP);
      outcome = await handshake({});
      attempts += 1;
    }
    expect(outcome.refused.details.retry_after).toBeGreaterThan(0);
  });
});
