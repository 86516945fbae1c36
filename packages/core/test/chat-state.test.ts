import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { DatabaseHandle } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';
import { defaultDomainRules } from '../src/rules';
import { createServices, type Services } from '../src/services';
import { MemoryPresenceStore, RedisPresenceStore } from '../src/presence/presence-store';
import type { RoomBroadcaster } from '../src/realtime/realtime';
import { insertMatch } from './support/domain';
import { SyncService } from '../src/messages/sync.service';
import { PresenceService } from '../src/presence/presence.service';
import { Realtime } from '../src/realtime/realtime';
import { syncRequest, type SyncPage } from '@mm/contract';

/** Every emit the domain makes, recorded instead of sent (no sockets in these tests). */
function recordingBroadcaster() {
  const emitted: { rooms: string[]; except?: string; event: string; payload: unknown }[] = [];
  const operator = (rooms: string[], except?: string) => ({
    except: (room: string | string[]) => operator(rooms, String(room)),
    emit: (event: string, payload: unknown) => emitted.push({ rooms, except, event, payload }),
    socketsJoin: () => undefined,
    socketsLeave: () => undefined,
    disconnectSockets: () => undefined,
  });
  const broadcaster: RoomBroadcaster = {
    to: (room) => operator(Array.isArray(room) ? room : [room]),
  };
  return { broadcaster, emitted };
}

describe('sync, read receipts and presence in the domain', () => {
  let schema: TestSchema;
  let handle: DatabaseHandle;
  let services: Services;
  let recorder: ReturnType<typeof recordingBroadcaster>;
  let redis: Redis;

  beforeAll(async () => {
    schema = await createTestSchema('chat_state');
    handle = await openTestDatabase(schema);
    recorder = recordingBroadcaster();
    services = createServices({
      db: handle.db,
      broadcaster: recorder.broadcaster,
      jwtSecret: 'x'.repeat(32),
      rules: { ...defaultDomainRules(), messageRate: { points: 10_000, windowSeconds: 60 } },
      keyPrefix: 'unused',
    });
    redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    await sql`INSERT INTO users (id, display_name) SELECT g, 'u' || g FROM generate_series(1, 9) g`.execute(
      handle.db,
    );
  });

  afterAll(async () => {
    await redis?.quit();
    await handle?.close();
    await schema?.drop();
  });

  const newMatch = (a: number, b: number, fields: Record<string, unknown> = {}) =>
    insertMatch(handle.db, a, b, fields);

  /** The test database, counting the queries sent through it. */
  function countingQueries() {
    let queries = 0;
    const db = handle.db.withPlugin({
      transformQuery: ({ node }) => {
        queries++;
        return node;
      },
      transformResult: async ({ result }) => result,
    });
    return { db, queries: () => queries };
  }

  async function sendMany(matchId: number, senderId: number, count: number, tag = 'm') {
    const sent = [];
    for (let i = 0; i < count; i++) {
      sent.push(
        (
          await services.messages.send(senderId, {
            match_id: matchId,
            client_id: `${tag}${i}`,
            body: `${tag} ${i}`,
          })
        ).message,
      );
    }
    return sent;
  }

  describe('sync', () => {
    it('when pages are smaller than what was missed, then paging returns every message once, in order', async () => {
      const m1 = await newMatch(1, 2);
      const m2 = await newMatch(1, 3);
      await sendMany(m1, 2, 7, 'a');
      await sendMany(m2, 3, 4, 'b');

      const since: Record<string, number> = { [m1]: 2, [m2]: 0 };
      const seen: string[] = [];
      for (let calls = 0; ; calls++) {
        expect(calls).toBeLessThan(10);
        const page = await services.sync.since(1, { since, limit: 3 });
        for (const m of page.messages) {
          seen.push(`${m.match_id}:${m.seq}`);
          since[m.match_id] = m.seq;
        }
        if (!page.has_more) break;
        expect(page.messages).toHaveLength(3);
      }
      expect(seen).toEqual([
        ...[3, 4, 5, 6, 7].map((s) => `${m1}:${s}`),
        ...[1, 2, 3, 4].map((s) => `${m2}:${s}`),
      ]);
    });

    it('when a match is not the caller’s, then it returns nothing of it', async () => {
      const theirs = await newMatch(4, 5);
      await sendMany(theirs, 4, 2);
      const page = await services.sync.since(1, { since: { [theirs]: 0 }, limit: 200 });
      expect(page).toEqual({ messages: [], has_more: false });
    });

    it('when a secret message has expired, then sync skips its seq', async () => {
      const m = await newMatch(1, 6);
      await sendMany(m, 6, 3);
      await handle.db
        .updateTable('messages')
        .set({ is_secret: true, expires_at: new Date(Date.now() - 1000) })
        .where('match_id', '=', m)
        .where('seq', '=', 2)
        .execute();
      const page = await services.sync.since(1, { since: { [m]: 0 }, limit: 200 });
      expect(page.messages.map((msg) => msg.seq)).toEqual([1, 3]);
    });
    it('when several users sync at once, then their syncs are read together, each page holding only what its own caller may see, cut at its own limit', async () => {
      const mine = await newMatch(2, 9);
      const theirs = await newMatch(4, 8);
      await sendMany(mine, 9, 3, 'x');
      await sendMany(theirs, 8, 2, 'y');
      const counted = countingQueries();
      const sync = new SyncService(counted.db);
      const seqs = (page: SyncPage) => page.messages.map((m) => `${m.match_id}:${m.seq}`);
      // Asked for in one turn of the event loop: read together, in one query.
      const [alone, current, asker, owner] = await Promise.all([
        sync.since(2, { since: { [mine]: 0 }, limit: 200 }),
        sync.since(9, { since: { [mine]: 3 }, limit: 200 }),
        sync.since(2, { since: { [mine]: 1, [theirs]: 0 }, limit: 1 }),
        sync.since(8, { since: { [theirs]: 0, [mine]: 0 }, limit: 200 }),
      ]);
      expect(counted.queries()).toBe(1);
      expect(seqs(alone!)).toEqual([1, 2, 3].map((s) => `${mine}:${s}`));
      // User 2 is not in `theirs`: nothing of it, even read with its owner's sync.
      expect(asker).toEqual({ messages: [expect.objectContaining({ seq: 2 })], has_more: true });
      expect(seqs(asker!)).toEqual([`${mine}:2`]);
      expect(seqs(owner!)).toEqual([`${theirs}:1`, `${theirs}:2`]);
      expect(current).toEqual({ messages: [], has_more: false });
    });

    it('when one user syncs the largest ids and seqs the contract lets through, then a sync read in the same query still gets its messages', async () => {
      const mine = await newMatch(5, 7);
      await sendMany(mine, 7, 2, 'z');
      const sync = new SyncService(handle.db);
      const request = syncRequest.parse({
        since: { '9999999999999999': Number.MAX_SAFE_INTEGER, '1': Number.MAX_SAFE_INTEGER },
        limit: 500,
      });
      const [odd, bystander] = await Promise.all([
        sync.since(3, request),
        sync.since(5, { since: { [mine]: 0 }, limit: 200 }),
      ]);
      expect(odd).toEqual({ messages: [], has_more: false });
      expect(bystander!.messages.map((m) => m.seq)).toEqual([1, 2]);
    });
  });

  describe('read receipts', () => {
    it('when reads arrive out of order or beyond the last message, then the stored seq only moves forward and stops at message_count', async () => {
      const m = await newMatch(1, 7);
      await sendMany(m, 7, 5);
      recorder.emitted.length = 0;

      expect(await services.receipts.markRead(1, { match_id: m, seq: 3 }, 'socket-1')).toBe(3);
      expect(await services.receipts.markRead(1, { match_id: m, seq: 2 })).toBe(3);
      expect(await services.receipts.markRead(1, { match_id: m, seq: 99 })).toBe(5);

      // One broadcast per user room (each room its own channel on the sharded adapter).
      const reads = recorder.emitted.filter((e) => e.event === 'read');
      expect(reads.map((e) => [e.rooms, e.payload])).toEqual([
        [['user:7'], { match_id: m, user_id: 1, seq: 3 }],
        [['user:1'], { match_id: m, user_id: 1, seq: 3 }],
        [['user:7'], { match_id: m, user_id: 1, seq: 5 }],
        [['user:1'], { match_id: m, user_id: 1, seq: 5 }],
      ]);
      expect(reads.slice(0, 2).map((e) => e.except)).toEqual(['socket-1', 'socket-1']);
    });

    it('when someone outside the match marks it read, then it is not found', async () => {
      const m = await newMatch(2, 3);
      await expect(services.receipts.markRead(9, { match_id: m, seq: 1 })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('when the partner wrote after the last read, then my-matches counts only their unread messages', async () => {
      const m = await newMatch(1, 8);
      await sendMany(m, 8, 4, 'p'); // seqs 1-4 from the partner
      await services.receipts.markRead(1, { match_id: m, seq: 2 });
      await sendMany(m, 1, 3, 'own'); // seqs 5-7: the user's own, never unread
      await sendMany(m, 8, 1, 'q'); // seq 8

      const view = (await services.matches.listMatches(1)).find((match) => match.id === m);
      expect(view).toMatchObject({ last_read_seq: 2, unread_count: 3, message_count: 8 });
      const partnerView = (await services.matches.listMatches(8)).find((match) => match.id === m);
      expect(partnerView).toMatchObject({ last_read_seq: 0, unread_count: 3 });
    });
  });

  it('when users connect at once, then each is told every active partner: one online as seen now, one offline as last seen, a deleted one as never seen', async () => {
    await sql`INSERT INTO users (id, display_name) SELECT g, 'u' || g FROM generate_series(101, 107) g`.execute(
      handle.db,
    );
    const seen = new Date('2026-01-02T03:04:05Z');
    await sql`UPDATE users SET last_active_at = ${seen} WHERE id IN (103, 106)`.execute(handle.db);
    await sql`UPDATE users SET deleted_at = now() WHERE id = 106`.execute(handle.db);
    await Promise.all([
      newMatch(101, 102),
      newMatch(101, 103),
      newMatch(101, 104, { status: 'unmatched', ended_at: new Date() }),
      newMatch(102, 105),
      newMatch(105, 106),
    ]);
    await services.presence.connected(102, 'socket-of-102');

    const told = await Promise.all(
      [101, 105, 107, 101].map((u) => services.presence.partnersOf(u)),
    );
    const byUser = told.map((views) =>
      [...views]
        .sort((a, b) => a.user_id - b.user_id)
        .map((v) => [v.user_id, v.online, v.online ? 'now' : v.last_seen_at]),
    );
    const of101 = [
      [102, true, 'now'],
      [103, false, seen.toISOString()],
    ];
    expect(byUser).toEqual([
      of101,
      [
        [102, true, 'now'],
        [106, false, null],
      ],
      [],
      of101,
    ]);
    await services.presence.disconnected(102, 'socket-of-102');
  });

  it('when a sweep finds many users gone at once, then their last-seen times are stored in one statement, their partners read in one query, and each partner hears it', async () => {
    await sql`INSERT INTO users (id, display_name) SELECT g, 'u' || g FROM generate_series(201, 206) g`.execute(
      handle.db,
    );
    await Promise.all([newMatch(201, 202), newMatch(203, 204), newMatch(205, 206)]);
    const counted = countingQueries();
    const ttlMs = 1_000;
    const store = new RedisPresenceStore(
      redis,
      `mmtest:presence:${randomBytes(4).toString('hex')}`,
      ttlMs,
    );
    const presence = new PresenceService(
      store,
      counted.db,
      new Realtime(recorder.broadcaster),
      { forEach: () => undefined },
      { ttlMs },
    );
    // A dead pod's entries, last refreshed two TTLs ago (so they expired one TTL ago).
    const refreshed = Date.now() - 2 * ttlMs;
    for (const user of [201, 203, 205])
      await store.add(user, `dead:${user}`, refreshed + ttlMs, refreshed);
    recorder.emitted.length = 0;
    await presence.sweep();

    expect(counted.queries()).toBe(2);
    const { rows } = await sql<{ id: number; last_active_at: Date }>`
      SELECT id, last_active_at FROM users WHERE id IN (201, 203, 205) ORDER BY id`.execute(
      handle.db,
    );
    expect(rows.map((r) => [Number(r.id), r.last_active_at.getTime()])).toEqual(
      [201, 203, 205].map((id) => [id, refreshed]),
    );
    const told = recorder.emitted
      .filter((e) => e.event === 'presence')
      .map((e) => [e.rooms, e.payload])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(told).toEqual(
      [
        [202, 201],
        [204, 203],
        [206, 205],
      ].map(([partner, user]) => [
        [`user:${partner}`],
        { user_id: user, online: false, last_seen_at: new Date(refreshed).toISOString() },
      ]),
    );
  });

  describe('presence stores', () => {
    const ttlMs = 1_000;
    const stores = () => {
      const prefix = `mmtest:presence:${randomBytes(4).toString('hex')}`;
      return {
        prefix,
        podA: new RedisPresenceStore(redis, prefix, ttlMs),
        podB: new RedisPresenceStore(redis, prefix, ttlMs),
      };
    };

    it('when a user has sockets on two pods, then they go offline only when the last one goes', async () => {
      const { podA, podB } = stores();
      const now = Date.now();
      expect(await podA.add(1, 'a:s1', now + ttlMs, now)).toBe(true);
      expect(await podB.add(1, 'b:s1', now + ttlMs, now)).toBe(false);
      expect(await podA.remove(1, 'a:s1', now)).toBe(false);
      expect(await podB.isOnline([1, 2], now)).toEqual([true, false]);
      expect(await podB.remove(1, 'b:s1', now)).toBe(true);
      expect(await podA.isOnline([1], now)).toEqual([false]);
    });

    it('when a pod stops refreshing, then its users expire and exactly one sweeper claims each', async () => {
      const { podA, podB } = stores();
      const start = Date.now();
      await podA.add(1, 'dead:s1', start + ttlMs, start);
      await podA.add(2, 'dead:s2', start + ttlMs, start);
      await podB.add(2, 'live:s3', start + 10 * ttlMs, start); // user 2 is also on a live pod

      const later = start + 2 * ttlMs;
      expect(await podA.isOnline([1, 2], later)).toEqual([false, true]);
      const [first, second] = await Promise.all([
        podA.sweep(later, ttlMs),
        podB.sweep(later, ttlMs),
      ]);
      const claimed = [...first, ...second];
      expect(claimed).toEqual([{ userId: 1, lastSeenAt: new Date(start) }]);
      // The dead pod's entry is gone: the user is offline once the live socket goes.
      expect(await podB.remove(2, 'live:s3', later)).toBe(true);
    });

    it('when many entries are added at once, then they go a script per bucket and only the users with no live entry come online, once each', async () => {
      const { prefix, podB } = stores();
      const now = Date.now();
      await podB.add(17, 'b:s1', now + ttlMs, now); // already online on another pod
      const evals: number[] = [];
      const counting = new Proxy(redis, {
        get: (target, key, receiver) =>
          key === 'eval'
            ? (...args: Parameters<Redis['eval']>) => {
                evals.push(Number(args[1]));
                return target.eval(...args);
              }
            : Reflect.get(target, key, receiver),
      });
      const pod = new RedisPresenceStore(counting, prefix, ttlMs);
      // Users 1, 17 and 33 share bucket 1 of 16; 2 is in bucket 2. User 1 has two sockets here.
      const came = await pod.addMany(
        [1, 17, 2, 1, 33].map((userId, i) => ({ userId, member: `a:s${i}` })),
        now + ttlMs,
        now,
      );
      expect(came.sort((a, b) => a - b)).toEqual([1, 2, 33]);
      expect(evals.sort((a, b) => a - b)).toEqual([2, 5]); // a script per bucket: its index and each entry's key
      expect(await podB.isOnline([1, 2, 17, 33, 49], now)).toEqual([true, true, true, true, false]);
      // Both of user 1's sockets count: the user stays online while either lives.
      expect(await pod.remove(1, 'a:s0', now)).toBe(false);
      expect(await pod.remove(1, 'a:s3', now)).toBe(true);
    });

    it('when the memory store counts sockets, then it follows the same rules', async () => {
      const store = new MemoryPresenceStore();
      expect(await store.add(1, 's1')).toBe(true);
      expect(await store.add(1, 's2')).toBe(false);
      expect(await store.remove(1, 's1')).toBe(false);
      expect(await store.isOnline([1])).toEqual([true]);
      expect(await store.remove(1, 's2')).toBe(true);
      expect(await store.remove(1, 's2')).toBe(false);
    });
  });
});
