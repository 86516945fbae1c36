import jwt from 'jsonwebtoken';
import { io as ioClient } from 'socket.io-client';
import WebSocket from 'ws';
import { sendMessage, type ChatSocket } from '@mm/client';
import type { Ack, MessageView } from '@mm/contract';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { connect, createUser, freshUserId, nextEvent, type TestUser } from '@mm/test-support/chat';
import { eventually } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { redisFor, type RedisKind } from '@mm/test-support/redis-cluster';
import {
  chatClient,
  holdsUpTo,
  JWT_SECRET,
  scaledEnv,
  seqsOf,
  SwitchProxy,
  type Receiver,
} from '@mm/test-support/realtime';

/**
 * The realtime contract (docs/design.md §4) over two gateway processes sharing Redis and Postgres:
 * delivery, idempotent resends, replay, typing, read receipts, presence and the limits of frames
 * and payloads. With the sharded adapter on a single Redis and on a three-master Redis Cluster,
 * and with the classic adapter.
 */
const setups: [RedisKind, 'sharded' | 'classic'][] = [
  ['standalone', 'sharded'],
  ['cluster', 'sharded'],
  ['standalone', 'classic'],
];
describe.each(setups)(
  'the realtime gateway across two processes on %s Redis, %s adapter',
  (redisKind, adapter) => {
    let redis: Awaited<ReturnType<typeof redisFor>> | undefined;
    let schema: TestSchema;
    let api: RunningProcess;
    let gatewayA: RunningProcess;
    let gatewayB: RunningProcess;
    const sockets: ChatSocket[] = [];
    const receivers: Receiver[] = [];

    beforeAll(async () => {
      schema = await createTestSchema('realtime');
      redis = await redisFor(redisKind);
      const env = scaledEnv(schema, 'realtime', { ...redis.env, REDIS_ADAPTER: adapter });
      [api, gatewayA, gatewayB] = await Promise.all([
        startApp('api', env),
        startApp('gateway', { ...env, GATEWAY_DRAIN_WINDOW_SECONDS: '0' }),
        startApp('gateway', { ...env, GATEWAY_DRAIN_WINDOW_SECONDS: '0' }),
      ]);
    }, 60_000);

    afterAll(async () => {
      sockets.forEach((socket) => socket.disconnect());
      receivers.forEach((receiver) => receiver.client.close());
      const codes = await Promise.all([api, gatewayA, gatewayB].map((p) => p?.stop()));
      await schema?.drop();
      await redis?.stop();
      expect(codes).toEqual([0, 0, 0]);
    });

    async function open(url: string, user: TestUser): Promise<ChatSocket> {
      const socket = await connect(url, user);
      sockets.push(socket);
      return socket;
    }

    async function matchedPair() {
      const [ann, bob] = await Promise.all([
        createUser(api.url, freshUserId(), 'Ann'),
        createUser(api.url, freshUserId(), 'Bob'),
      ]);
      const annSocket = await open(gatewayA.url, ann);
      const bobSocket = await open(gatewayB.url, bob);
      const bobHears = nextEvent(bobSocket, 'match:new');
      const match = await ann.rest.findMatch(ann.id);
      await bobHears;
      return { ann, bob, annSocket, bobSocket, matchId: match.id };
    }

    function collect<T>(socket: ChatSocket, event: 'message:new' | 'typing' | 'read' | 'presence') {
      const got: T[] = [];
      socket.on(event, (payload: unknown) => got.push(payload as T));
      return got;
    }

    it('when Ann streams messages on gateway A, then Bob on gateway B receives them all in seq order', async () => {
      const { annSocket, bobSocket, matchId } = await matchedPair();
      const delivered = collect<MessageView>(bobSocket, 'message:new');

      const acked = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          sendMessage(annSocket, { match_id: matchId, client_id: `s-${i}`, body: `n${i}` }),
        ),
      );

      expect(acked.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      await eventually(
        async () => delivered.length,
        (n) => n >= 40,
      );
      expect(delivered.map((m) => m.seq)).toEqual(acked.map((m) => m.seq));
      expect(delivered.map((m) => m.body)).toEqual(acked.map((m) => m.body));
    });

    it('when the 20th message is sent on gateway A, then both sides, on either gateway, are told of level 1 with their own view, and contacts arrive masked', async () => {
      const { annSocket, bobSocket, matchId } = await matchedPair();
      const delivered = collect<MessageView>(bobSocket, 'message:new');
      const annUnlocked = nextEvent(annSocket, 'match:unlocked');
      const bobUnlocked = nextEvent(bobSocket, 'match:unlocked');

      const first = await sendMessage(annSocket, {
        match_id: matchId,
        client_id: 'contact',
        body: 'reach me at ann@example.com',
      });
      expect(first.body).toBe('reach me at [contact hidden]');
      // Levels need both sides: Bob writes his share (5 of 20) on gateway B, Ann the 20th on A.
      for (let n = 2; n <= 20; n++) {
        const socket = n >= 15 && n <= 19 ? bobSocket : annSocket;
        await sendMessage(socket, { match_id: matchId, client_id: `u-${n}`, body: `n${n}` });
      }

      const [toAnn, toBob] = await Promise.all([annUnlocked, bobUnlocked]);
      expect(toAnn).toMatchObject({ match_id: matchId, level: 1, partner: { level: 1 } });
      expect(toBob).toMatchObject({ match_id: matchId, level: 1, partner: { level: 1 } });
      // Level 1 shows age and city, never the name: each side still sees a mystery.
      expect(toAnn.partner.display_name).toBe('Mystery User');
      expect(toBob.partner.display_name).toBe('Mystery User');
      await eventually(
        async () => delivered.length,
        (n) => n >= 15, // Ann's messages; Bob's own socket has the ack of his
      );
      expect(delivered[0]!.body).toBe('reach me at [contact hidden]');
      expect(JSON.stringify(delivered)).not.toContain('ann@example.com');
    });

    it('when one client_id is sent on two pods at once, then both acks carry the one stored message', async () => {
      const { ann, annSocket, matchId } = await matchedPair();
      const annOnB = await open(gatewayB.url, ann);

      for (let round = 0; round < 5; round++) {
        const request = { match_id: matchId, client_id: `race-${round}`, body: `race ${round}` };
        const [onA, onB, againOnA] = await Promise.all([
          sendMessage(annSocket, request),
          sendMessage(annOnB, request),
          sendMessage(annSocket, request),
        ]);
        expect(onB).toEqual(onA);
        expect(againOnA).toEqual(onA);
      }
      const history = await ann.rest.history(matchId, { limit: 100 });
      expect(history.messages.map((m) => m.client_id)).toEqual(
        [0, 1, 2, 3, 4].map((r) => `race-${r}`),
      );
      expect(history.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    });

    it('when Bob is away while 100 messages are sent, then on reconnecting to the other pod he receives all 100 once, in order', async () => {
      const { annSocket, bob, bobSocket, matchId } = await matchedPair();
      const first = await sendMessage(annSocket, {
        match_id: matchId,
        client_id: 'before',
        body: 'hi',
      });
      bobSocket.disconnect();

      for (let i = 0; i < 100; i++) {
        await sendMessage(annSocket, {
          match_id: matchId,
          client_id: `away-${i}`,
          body: `away ${i}`,
        });
      }
      // Back on gateway A this time, knowing only the first message; sync pages by 30.
      const receiver = await chatClient({
        url: gatewayA.url,
        token: bob.token,
        lastSeqs: { [matchId]: first.seq },
        syncPageSize: 30,
      });
      receivers.push(receiver);

      expect(seqsOf(receiver.messages, matchId)).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 2),
      );
      expect(receiver.messages.map((m) => m.body)).toEqual(
        Array.from({ length: 100 }, (_, i) => `away ${i}`),
      );
      expect(receiver.client.lastSeq(matchId)).toBe(101);
    });

    it('when someone syncs a match that is not theirs, then nothing of it comes back', async () => {
      const { annSocket, matchId } = await matchedPair();
      await sendMessage(annSocket, { match_id: matchId, client_id: 'secret', body: 'private' });
      const eve = await createUser(api.url, freshUserId(), 'Eve');
      const eveSocket = await open(gatewayB.url, eve);

      const page: Ack<{ messages: MessageView[]; has_more: boolean }> = await eveSocket.emitWithAck(
        'sync',
        { since: { [matchId]: 0 } },
      );
      expect(page).toEqual({ ok: true, messages: [], has_more: false });
    });

    it('when Ann types, then Bob hears it on the other pod and Ann’s other device does not', async () => {
      const { ann, annSocket, bobSocket, matchId } = await matchedPair();
      const annPhone = await open(gatewayB.url, ann);
      const phoneHears = collect(annPhone, 'typing');

      const bobHears = nextEvent(bobSocket, 'typing');
      annSocket.emit('typing', { match_id: matchId, is_typing: true });
      expect(await bobHears).toEqual({ match_id: matchId, user_id: ann.id, is_typing: true });

      // A typing event for a match Ann is not in goes nowhere; the next real one still arrives.
      annSocket.emit('typing', { match_id: matchId + 100_000, is_typing: true });
      annSocket.emit('typing', { match_id: 'x', is_typing: 'yes' } as never);
      const next = nextEvent(bobSocket, 'typing');
      annSocket.emit('typing', { match_id: matchId, is_typing: false });
      expect(await next).toEqual({ match_id: matchId, user_id: ann.id, is_typing: false });
      expect(phoneHears).toEqual([]);
    });

    it('when Bob reads, then the seq is stored without going back, Ann hears it, and my-matches counts unread messages', async () => {
      const { ann, bob, annSocket, bobSocket, matchId } = await matchedPair();
      for (let i = 0; i < 5; i++) {
        await sendMessage(annSocket, { match_id: matchId, client_id: `r-${i}`, body: `r${i}` });
      }
      expect((await bob.rest.myMatches(bob.id)).find((m) => m.id === matchId)).toMatchObject({
        unread_count: 5,
        last_read_seq: 0,
      });

      const annHears = nextEvent(annSocket, 'read');
      expect(await bobSocket.emitWithAck('read', { match_id: matchId, seq: 3 })).toEqual({
        ok: true,
        last_read_seq: 3,
      });
      expect(await annHears).toEqual({ match_id: matchId, user_id: bob.id, seq: 3 });
      expect(await bobSocket.emitWithAck('read', { match_id: matchId, seq: 1 })).toEqual({
        ok: true,
        last_read_seq: 3,
      });
      expect(await bobSocket.emitWithAck('read', { match_id: matchId, seq: 50 })).toEqual({
        ok: true,
        last_read_seq: 5,
      });
      expect((await bob.rest.myMatches(bob.id)).find((m) => m.id === matchId)).toMatchObject({
        unread_count: 0,
        last_read_seq: 5,
      });
      expect((await ann.rest.myMatches(ann.id)).find((m) => m.id === matchId)).toMatchObject({
        unread_count: 0,
        last_read_seq: 0,
      });
    });

    it('when Bob has sockets on both pods, then Ann sees him online until the last one goes', async () => {
      const { ann, bob, annSocket, bobSocket } = await matchedPair();
      const bobOnA = await open(gatewayA.url, bob);
      // A connecting socket is told its partners' presence once its own is stored: before that,
      // closing Bob's socket on B could still find him with no other socket.
      await nextEvent(bobOnA, 'presence');
      const seen = collect<{ user_id: number; online: boolean; last_seen_at: string }>(
        annSocket,
        'presence',
      );

      bobSocket.disconnect(); // Bob's socket on B goes; the one on A stays
      const annAgain = await open(gatewayB.url, ann);
      const told = await nextEvent(annAgain, 'presence');
      expect(told).toMatchObject({ user_id: bob.id, online: true });

      const offline = nextEvent(annSocket, 'presence');
      bobOnA.disconnect();
      expect(await offline).toMatchObject({ user_id: bob.id, online: false });
      expect(seen.filter((p) => p.user_id === bob.id).map((p) => p.online)).toEqual([false]);
      expect((await offline).last_seen_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    });

    describe('limits and malformed input', () => {
      it('when a token has expired, then the handshake fails with TOKEN_EXPIRED', async () => {
        const expired = jwt.sign({}, JWT_SECRET, {
          algorithm: 'HS256',
          subject: '42',
          expiresIn: -10,
        });
        const socket = ioClient(gatewayA.url, {
          auth: { token: expired },
          transports: ['websocket'],
          reconnection: false,
        });
        const error = await new Promise<Error & { data?: unknown }>((resolve) =>
          socket.once('connect_error', resolve),
        );
        socket.close();
        expect(error.data).toEqual({ code: 'TOKEN_EXPIRED' });
      });

      it('when payloads are malformed, then each gets an error ack and the socket keeps working', async () => {
        const { annSocket, matchId } = await matchedPair();
        const raw = annSocket as unknown as {
          emitWithAck(event: string, ...args: unknown[]): Promise<Ack<object>>;
        };

        const answers = await Promise.all([
          raw.emitWithAck('message:send', { match_id: 'one', client_id: 7, body: '' }),
          raw.emitWithAck('message:send', null),
          raw.emitWithAck('message:send'),
          raw.emitWithAck('message:send', {
            match_id: matchId,
            client_id: 'x',
            body: 'a'.repeat(4001),
          }),
          raw.emitWithAck('sync', { since: { abc: 'def' } }),
          raw.emitWithAck('sync', 'not an object'),
          raw.emitWithAck('read', { match_id: matchId, seq: -1 }),
          raw.emitWithAck('no:such:event', { any: 'thing' }),
        ]);
        expect(answers.map((a) => (a.ok ? 'ok' : a.error.code))).toEqual([
          'VALIDATION_FAILED',
          'VALIDATION_FAILED',
          'VALIDATION_FAILED',
          'VALIDATION_FAILED',
          'VALIDATION_FAILED',
          'VALIDATION_FAILED',
          'VALIDATION_FAILED',
          'UNKNOWN_EVENT',
        ]);
        expect(JSON.stringify(answers)).not.toMatch(/stack|sql|select|postgres/i);

        // Without an ack callback: nothing to answer, nothing breaks.
        const loose = annSocket as unknown as { emit(event: string, ...args: unknown[]): void };
        loose.emit('message:send', { nonsense: true });
        loose.emit('read', 'garbage');
        const after = await sendMessage(annSocket, {
          match_id: matchId,
          client_id: 'ok',
          body: 'fine',
        });
        expect(after.seq).toBe(1);
      });

      it('when since is malformed, then sync is acked VALIDATION_FAILED naming the field', async () => {
        const { annSocket } = await matchedPair();
        const raw = annSocket as unknown as {
          emitWithAck(event: string, ...args: unknown[]): Promise<Ack<object>>;
        };
        const refused = (field: string) => ({
          ok: false,
          error: {
            code: 'VALIDATION_FAILED',
            message: `Invalid request: ${field}.`,
            details: { fields: [{ field, message: expect.any(String) }] },
          },
        });
        expect(await raw.emitWithAck('sync', { since: { abc: 1 } })).toEqual(refused('since.abc'));
        expect(await raw.emitWithAck('sync', { since: { 1: -1 } })).toEqual(refused('since.1'));
      });

      it('when a frame is over 100 KB, then the connection is refused and the pod serves others', async () => {
        const { ann, annSocket, bobSocket, matchId } = await matchedPair();
        const dropped = new Promise<string>((resolve) => annSocket.once('disconnect', resolve));
        annSocket.emit(
          'message:send',
          { match_id: matchId, client_id: 'big', body: 'x'.repeat(150_000) },
          () => {
            throw new Error('an oversize frame must not be acked');
          },
        );
        expect(await dropped).toBe('transport close');

        const annAgain = await open(gatewayA.url, ann);
        const delivered = nextEvent(bobSocket, 'message:new');
        const stored = await sendMessage(annAgain, {
          match_id: matchId,
          client_id: 'small',
          body: 'ok',
        });
        expect(await delivered).toEqual(stored);
        expect((await ann.rest.history(matchId)).messages.map((m) => m.client_id)).toEqual([
          'small',
        ]);
      });

      it('when a frame is not Socket.IO at all, then that connection is closed and the pod keeps serving', async () => {
        const ann = await createUser(api.url, freshUserId(), 'Ann');
        const url = `${gatewayB.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
        const ws = new WebSocket(url);
        await new Promise((resolve) => ws.once('open', resolve));
        const closed = new Promise((resolve) => ws.once('close', resolve));
        ws.send(`40${JSON.stringify({ token: ann.token })}`);
        ws.send('42["message:send",{"match_id":');
        ws.send('\u0000\u0001garbage');
        await closed;

        const socket = await open(gatewayB.url, ann);
        const page = await socket.emitWithAck('sync', { since: {} });
        expect(page).toEqual({ ok: true, messages: [], has_more: false });
      });
    });

    it('when the SDK loses its connection mid-send, then its outbox resends after reconnecting and each message is stored once', async () => {
      const { ann, bob, bobSocket, matchId } = await matchedPair();
      const proxy = await new SwitchProxy(gatewayA.port).listen();
      try {
        const sender = await chatClient({ url: proxy.url, token: ann.token, ackTimeoutMs: 2_000 });
        receivers.push(sender);
        const bobGets = collect<MessageView>(bobSocket, 'message:new');

        const sends = Array.from({ length: 20 }, (_, i) =>
          sender.client.send(matchId, `o${i}`, `o-${i}`),
        );
        proxy.cut(); // cut before the acks can come back: some stored, none acked
        proxy.target = gatewayB.port; // it comes back through the other pod
        const more = Array.from({ length: 5 }, (_, i) => sender.client.send(matchId, `late${i}`));

        const acked = await Promise.all([...sends, ...more]);
        expect(new Set(acked.map((m) => m.seq)).size).toBe(25);
        expect(sender.client.unacked).toBe(0);
        const history = await bob.rest.history(matchId, { limit: 100 });
        expect(history.messages).toHaveLength(25);
        expect(history.messages.map((m) => m.seq)).toEqual(
          Array.from({ length: 25 }, (_, i) => i + 1),
        );
        expect(
          history.messages.filter((m) => m.client_id.startsWith('o-')).map((m) => m.body),
        ).toEqual(Array.from({ length: 20 }, (_, i) => `o${i}`));
        // The sender's own view: each message once, resends or not.
        await holdsUpTo(sender, matchId, 25);
        expect(seqsOf(sender.messages, matchId).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 25 }, (_, i) => i + 1),
        );
        await eventually(
          async () => new Set(bobGets.map((m) => m.seq)).size,
          (n) => n === 25,
        );
      } finally {
        await proxy.close();
      }
    });
  },
);
