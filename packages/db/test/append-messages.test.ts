// The base tsconfig only loads Node's types; this file also needs jest's globals.
/// <reference types="jest" />
import { sql, type Kysely } from 'kysely';
import type { DatabaseHandle } from '../src/connection';
import { appendMessageBatch, type BatchOutcome } from '../src/queries/message-batch.queries';
import type { Database } from '../src/schema';
import { createTestSchema, insertMatch, openTestDatabase, type TestSchema } from '../src/testing';

/** Polls `condition` until it holds; fails after `timeoutMs` rather than hanging the file. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function backendPid(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
  return rows[0]!.pid;
}

describe('append_messages under concurrency', () => {
  let testSchema: TestSchema;
  // Two pods' connections (one each, so the backend that waits is known) and an observer.
  let podA: DatabaseHandle;
  let podB: DatabaseHandle;
  let observer: DatabaseHandle;

  beforeAll(async () => {
    testSchema = await createTestSchema('db_append_race');
    [podA, podB, observer] = await Promise.all([
      openTestDatabase(testSchema, 1),
      openTestDatabase(testSchema, 1),
      openTestDatabase(testSchema, 1),
    ]);
    await podA.db
      .insertInto('users')
      .values([1, 2].map((id) => ({ id, display_name: `user ${id}` })))
      .execute();
  });

  afterAll(async () => {
    await Promise.all([podA?.close(), podB?.close(), observer?.close()]);
    await testSchema?.drop();
  });

  // The snapshot race the append_messages migration describes: a resend that waits for the match's
  // lock while another pod stores the original must find that original once the lock is its own.
  // Checked against a snapshot from before its wait, it would not see it and would hit the unique
  // key instead (SQLSTATE 23505), failing the whole batch.
  it('when a resend waits on the lock of a pod storing its original, then it gets that original back, not a unique-key error', async () => {
    const { id: matchId } = await podA.db
      .insertInto('matches')
      .values({
        user_a: 1,
        user_b: 2,
        created_by: 1,
        expires_at: new Date(Date.now() + 86_400_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const message = { matchId, senderId: 1, clientId: 'raced', body: 'hello' };
    const waiter = await backendPid(podB.db);

    let resend: Promise<BatchOutcome[]> | undefined;
    const original = await podA.db.transaction().execute(async (trx) => {
      const [stored] = await appendMessageBatch(trx, [message], 60_000);
      // Pod A holds the match's lock until it commits; pod B's resend queues behind it.
      resend = appendMessageBatch(podB.db, [message], 60_000);
      resend.catch(() => undefined); // awaited below, where a failure fails the test
      await until(async () => {
        const { rows } = await sql<{ waiting: boolean }>`
          SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity
          WHERE pid = ${waiter}`.execute(observer.db);
        return rows[0]?.waiting === true;
      }, "pod B's resend waits on pod A's lock");
      return stored!;
    });

    if (original.outcome !== 'new') throw new Error(`pod A's send came back ${original.outcome}`);
    expect(original.message.seq).toBe(1);
    const [again] = await resend!;
    expect(again).toMatchObject({
      outcome: 'existing',
      message: { id: original.message.id, seq: 1 },
    });
    const stored = await observer.db
      .selectFrom('messages')
      .select('seq')
      .where('match_id', '=', matchId)
      .execute();
    expect(stored).toEqual([{ seq: 1 }]);
  });
});

describe('append_messages enqueues the push of what it stores', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    testSchema = await createTestSchema('db_append_push');
    handle = await openTestDatabase(testSchema, 1);
    await handle.db
      .insertInto('users')
      .values([1, 2, 3].map((id) => ({ id, display_name: `user ${id}` })))
      .execute();
    // Users 2 and 1 have a device; user 3 has none.
    await handle.db
      .insertInto('push_subscriptions')
      .values(
        [2, 1].map((id) => ({
          user_id: id,
          endpoint: `https://push.invalid/${id}`,
          p256dh: 'key',
          auth: 'auth',
        })),
      )
      .execute();
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  const matchOf = (userA: number, userB: number) => insertMatch(handle.db, userA, userB);

  const pending = (matchId: number) =>
    handle.db
      .selectFrom('notification_outbox')
      .select(['user_id', 'event_key', 'message_count', 'last_seq'])
      .where('match_id', '=', matchId)
      .where('done_at', 'is', null)
      .orderBy('user_id')
      .execute();

  it('when a batch holds both sides of a match, then each recipient with a device gets one row for all of theirs, keyed by the first; a later batch adds to it', async () => {
    const both = await matchOf(1, 2);
    const toNobody = await matchOf(2, 3);
    const send = (matchId: number, senderId: number, clientId: string) => ({
      matchId,
      senderId,
      clientId,
      body: 'hello',
    });
    const first = await appendMessageBatch(
      handle.db,
      [send(both, 1, 'a1'), send(both, 2, 'b1'), send(both, 1, 'a2'), send(toNobody, 2, 'c1')],
      60_000,
    );
    expect(first.map((o) => o.outcome)).toEqual(['new', 'new', 'new', 'new']);
    // A resend stores nothing, so it enqueues nothing.
    const resend = await appendMessageBatch(handle.db, [send(both, 1, 'a2')], 60_000);
    expect(resend.map((o) => o.outcome)).toEqual(['existing']);

    // User 2 got seqs 1 and 3 from user 1, user 1 got seq 2; user 3 has no device.
    expect(await pending(both)).toEqual([
      { user_id: 1, event_key: `message:${both}:1:2`, message_count: 1, last_seq: 2 },
      { user_id: 2, event_key: `message:${both}:2:1`, message_count: 2, last_seq: 3 },
    ]);
    expect(await pending(toNobody)).toEqual([]);

    await appendMessageBatch(handle.db, [send(both, 1, 'a3')], 60_000);
    expect(await pending(both)).toEqual([
      { user_id: 1, event_key: `message:${both}:1:2`, message_count: 1, last_seq: 2 },
      { user_id: 2, event_key: `message:${both}:2:1`, message_count: 3, last_seq: 4 },
    ]);
  });
});
