import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatSocket } from '@mm/client';
import { matchRoom } from '@mm/contract';
import { createLogger } from '@mm/platform';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { createSocketServer, useRedisAdapter, type GatewayServer } from '@mm/gateway';
import { connect, createUser, freshUserId, nextEvent, type TestUser } from '@mm/test-support/chat';
import { eventually } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { scaledEnv } from '@mm/test-support/realtime';
import { REDIS_KINDS, redisFor } from '@mm/test-support/redis-cluster';

/**
 * Ending a match over REST (the API pod, through its own Redis adapter) reaches both users on two
 * other gateway processes: both hear `match:ended`, and every socket of theirs leaves the match
 * room (or, for an account deleted, is closed). Room membership is read across the processes by an
 * observer node on the same adapter. Once on a single Redis, once on a three-master Redis Cluster.
 */
describe.each(REDIS_KINDS)(
  'ending a match across two gateway processes on %s Redis',
  (redisKind) => {
    let redis: Awaited<ReturnType<typeof redisFor>> | undefined;
    let schema: TestSchema;
    let api: RunningProcess;
    let gatewayA: RunningProcess;
    let gatewayB: RunningProcess;
    let observer: GatewayServer;
    let closeObserver: () => Promise<void>;
    const sockets: ChatSocket[] = [];

    beforeAll(async () => {
      schema = await createTestSchema('lifecycle_scaled');
      redis = await redisFor(redisKind);
      const env = scaledEnv(schema, 'lifecycle', redis.env);
      [api, gatewayA, gatewayB] = await Promise.all([
        startApp('api', env),
        startApp('gateway', { ...env, GATEWAY_DRAIN_WINDOW_SECONDS: '0' }),
        startApp('gateway', { ...env, GATEWAY_DRAIN_WINDOW_SECONDS: '0' }),
      ]);
      const http = createServer();
      observer = createSocketServer(http);
      const adapter = useRedisAdapter(
        observer,
        { url: env.REDIS_URL!, cluster: env.REDIS_CLUSTER === 'true', prefix: env.REDIS_PREFIX! },
        createLogger({ level: 'silent', name: 'observer' }),
      );
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      expect((http.address() as AddressInfo).port).toBeGreaterThan(0);
      closeObserver = async () => {
        await observer.close();
        await adapter.close();
      };
    }, 90_000);

    afterAll(async () => {
      sockets.forEach((socket) => socket.disconnect());
      await closeObserver?.();
      const codes = await Promise.all([api, gatewayA, gatewayB].map((p) => p?.stop()));
      await schema?.drop();
      await redis?.stop();
      expect(codes).toEqual([0, 0, 0]);
    });

    /** The user ids of the sockets in the match room, on every gateway process. */
    async function inRoom(matchId: number): Promise<number[]> {
      const found = await observer.in(matchRoom(matchId)).fetchSockets();
      return found.map((socket) => socket.data.userId).sort((x, y) => x - y);
    }

    async function matchedPair(): Promise<{
      ann: TestUser;
      bob: TestUser;
      sockets: ChatSocket[];
      matchId: number;
    }> {
      const [ann, bob] = await Promise.all([
        createUser(api.url, freshUserId(), 'Ann'),
        createUser(api.url, freshUserId(), 'Bob'),
      ]);
      // Ann on both gateways (two devices), Bob on B.
      const own = [
        await connect(gatewayA.url, ann),
        await connect(gatewayB.url, ann),
        await connect(gatewayB.url, bob),
      ];
      sockets.push(...own);
      const bobHears = nextEvent(own[2]!, 'match:new');
      const match = await ann.rest.findMatch(ann.id);
      expect((await bobHears).partner_id).toBe(ann.id);
      const pair = [ann.id, ann.id, bob.id].sort((x, y) => x - y);
      await eventually(
        () => inRoom(match.id),
        (ids) => ids.join() === pair.join(),
      );
      return { ann, bob, sockets: own, matchId: match.id };
    }

    it('when Bob unmatches, then every socket of both hears match:ended and leaves the room on both processes', async () => {
      const { bob, sockets: own, matchId } = await matchedPair();
      const heard = own.map((socket) => nextEvent(socket, 'match:ended'));

      const ended = await bob.rest.unmatch(matchId);

      expect(ended.status).toBe('unmatched');
      for (const event of await Promise.all(heard)) {
        expect(event).toEqual({ match_id: matchId, reason: 'unmatched' });
      }
      await eventually(
        () => inRoom(matchId),
        (ids) => ids.length === 0,
      );
    });

    it('when Ann deletes her account over REST, then Bob hears match:ended and both her devices are disconnected on both processes', async () => {
      const { ann, sockets: own, matchId } = await matchedPair();
      const [annOnA, annOnB, bobOnB] = own as [ChatSocket, ChatSocket, ChatSocket];
      const closed = [annOnA, annOnB].map(
        (socket) => new Promise((resolve) => socket.once('disconnect', resolve)),
      );
      const bobHears = nextEvent(bobOnB, 'match:ended');

      await ann.rest.deleteAccount();

      expect(await bobHears).toEqual({ match_id: matchId, reason: 'unmatched' });
      expect(await Promise.all(closed)).toEqual(['io server disconnect', 'io server disconnect']);
      expect(bobOnB.connected).toBe(true);
    });

    it('when Ann blocks Bob, then the match ends for both as blocked and the room empties on both processes', async () => {
      const { ann, bob, sockets: own, matchId } = await matchedPair();
      const heard = own.map((socket) => nextEvent(socket, 'match:ended'));

      await ann.rest.block(bob.id);

      for (const event of await Promise.all(heard)) {
        expect(event).toEqual({ match_id: matchId, reason: 'blocked' });
      }
      await eventually(
        () => inRoom(matchId),
        (ids) => ids.length === 0,
      );
      const [annMatches, bobMatches] = await Promise.all([
        ann.rest.myMatches(ann.id),
        bob.rest.myMatches(bob.id),
      ]);
      expect(annMatches.find((m) => m.id === matchId)?.status).toBe('blocked');
      expect(bobMatches.find((m) => m.id === matchId)?.status).toBe('blocked');
    });

    it('when a match is extended or a secret chat agreed over REST, then both sides hear it on their gateways', async () => {
      const { ann, bob, sockets: own, matchId } = await matchedPair();
      const extended = own.map((socket) => nextEvent(socket, 'match:extended'));
      const match = await bob.rest.extendMatch(matchId);
      for (const event of await Promise.all(extended)) {
        expect(event).toEqual({
          match_id: matchId,
          expires_at: match.expires_at,
          extended_count: 1,
        });
      }

      const requested = own.map((socket) => nextEvent(socket, 'secret_chat:requested'));
      await ann.rest.requestSecretChat(matchId);
      for (const event of await Promise.all(requested)) {
        expect(event).toEqual({ match_id: matchId, requested_by: ann.id });
      }
      const active = own.map((socket) => nextEvent(socket, 'secret_chat:active'));
      await bob.rest.acceptSecretChat(matchId);
      for (const event of await Promise.all(active)) {
        expect(event).toEqual({ match_id: matchId, requested_by: ann.id });
      }
    });
  },
);
