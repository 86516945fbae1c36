import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { sendMessage, type ChatSocket } from '@mm/client';
import { connect, createUser, freshUserId, nextEvent, type TestUser } from '@mm/test-support/chat';
import {
  startApp,
  testRedisUrl,
  uniqueRedisPrefix,
  type RunningProcess,
} from '@mm/test-support/processes';

/**
 * The walking skeleton's path in scaled mode: one API process and two gateway processes as real
 * processes, sharing one Postgres schema and one Redis prefix.
 */
describe('chat across two gateway processes (scaled mode)', () => {
  let schema: TestSchema;
  let api: RunningProcess;
  let gatewayA: RunningProcess;
  let gatewayB: RunningProcess;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('chat_scaled');
    const env = {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '5',
      REDIS_URL: testRedisUrl,
      REDIS_PREFIX: uniqueRedisPrefix('chat'),
      JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256',
      DEV_TOKENS: 'true',
      AUTO_APPROVE_PROFILES: 'true',
    };
    [api, gatewayA, gatewayB] = await Promise.all([
      startApp('api', env),
      startApp('gateway', env),
      startApp('gateway', env),
    ]);
  }, 60_000);

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    const codes = await Promise.all([api, gatewayA, gatewayB].map((p) => p?.stop()));
    await schema?.drop();
    // SIGTERM closes the server, the pool and Redis, and exits 0.
    expect(codes).toEqual([0, 0, 0]);
  });

  async function matchedPair(): Promise<{
    ann: TestUser;
    bob: TestUser;
    annSocket: ChatSocket;
    bobSocket: ChatSocket;
    matchId: number;
  }> {
    const [ann, bob] = await Promise.all([
      createUser(api.url, freshUserId(), 'Ann'),
      createUser(api.url, freshUserId(), 'Bob'),
    ]);
    const annSocket = await connect(gatewayA.url, ann);
    const bobSocket = await connect(gatewayB.url, bob);
    sockets.push(annSocket, bobSocket);
    const bobHears = nextEvent(bobSocket, 'match:new');
    const match = await ann.rest.findMatch(ann.id);
    // The API reached Bob's socket on the other process through the Redis emitter.
    expect(await bobHears).toMatchObject({ id: match.id, partner_id: ann.id });
    return { ann, bob, annSocket, bobSocket, matchId: match.id };
  }

  it('when Ann sends on gateway A, then Bob on gateway B receives it and history returns it', async () => {
    const { bob, annSocket, bobSocket, matchId, ann } = await matchedPair();

    const delivered = nextEvent(bobSocket, 'message:new');
    const acked = await sendMessage(annSocket, {
      match_id: matchId,
      client_id: 'c-1',
      body: '  hello from A  ',
    });

    expect(acked).toMatchObject({
      match_id: matchId,
      seq: 1,
      sender_id: ann.id,
      client_id: 'c-1',
      body: 'hello from A',
    });
    expect(await delivered).toEqual(acked);

    const page = await bob.rest.history(matchId);
    expect(page).toEqual({ messages: [acked], next_cursor: null, has_more: false });
  });

  it('when the same client_id is sent twice, then the original is returned and stored once', async () => {
    const { ann, annSocket, matchId } = await matchedPair();

    const first = await sendMessage(annSocket, {
      match_id: matchId,
      client_id: 'same',
      body: 'once',
    });
    const again = await sendMessage(annSocket, {
      match_id: matchId,
      client_id: 'same',
      body: 'once',
    });

    expect(again).toEqual(first);
    expect((await ann.rest.history(matchId)).messages).toHaveLength(1);
  });

  it('when both send at once on two processes, then seqs are gapless and in the order stored', async () => {
    const { ann, annSocket, bobSocket, matchId } = await matchedPair();

    const sends = Array.from({ length: 20 }, (_, i) =>
      sendMessage(i % 2 ? bobSocket : annSocket, {
        match_id: matchId,
        client_id: `m-${i}`,
        body: `message ${i}`,
      }),
    );
    const acked = await Promise.all(sends);

    expect(acked.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const page = await ann.rest.history(matchId, { limit: 100 });
    expect(page.messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('when history is longer than a page, then the cursor walks back to the first message', async () => {
    const { ann, annSocket, matchId } = await matchedPair();
    for (let i = 1; i <= 5; i++) {
      await sendMessage(annSocket, { match_id: matchId, client_id: `p-${i}`, body: `m${i}` });
    }

    const newest = await ann.rest.history(matchId, { limit: 2 });
    expect(newest.messages.map((m) => m.seq)).toEqual([4, 5]);
    expect(newest).toMatchObject({ has_more: true, next_cursor: 4 });
    const middle = await ann.rest.history(matchId, { limit: 2, before: newest.next_cursor! });
    expect(middle.messages.map((m) => m.seq)).toEqual([2, 3]);
    const oldest = await ann.rest.history(matchId, { limit: 2, before: middle.next_cursor! });
    expect(oldest).toMatchObject({ has_more: false, next_cursor: null });
    expect(oldest.messages.map((m) => m.seq)).toEqual([1]);
  });

  it('when someone outside the match sends or reads, then it is refused as not found', async () => {
    const { matchId } = await matchedPair();
    const eve = await createUser(api.url, freshUserId(), 'Eve');
    const eveSocket = await connect(gatewayA.url, eve);
    sockets.push(eveSocket);

    await expect(
      sendMessage(eveSocket, { match_id: matchId, client_id: 'x', body: 'hi' }),
    ).rejects.toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    await expect(eve.rest.history(matchId)).rejects.toMatchObject({
      status: 404,
      error: { code: 'NOT_FOUND' },
    });
  });

  it('when a token is missing or forged, then the handshake fails with a code', async () => {
    const { io } = await import('socket.io-client');
    for (const auth of [{}, { token: 'not-a-jwt' }]) {
      const socket = io(gatewayA.url, { auth, transports: ['websocket'], reconnection: false });
      const error = await new Promise<Error & { data?: { code?: string } }>((resolve) =>
        socket.once('connect_error', resolve),
      );
      expect(error.data).toEqual({ code: 'UNAUTHENTICATED' });
      socket.close();
    }
  });
});
