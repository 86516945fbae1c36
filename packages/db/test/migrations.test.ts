// The base tsconfig only loads Node's types; this file also needs jest's globals.
/// <reference types="jest" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { openDatabase, type DatabaseHandle } from '../src/connection';
import { migrateAllDown, migrateToLatest } from '../src/migrate';
import { migrations } from '../src/migrations';
import type { NewMatch, NewMessage } from '../src/schema';
import { createTestSchema, openTestDatabase, type TestSchema } from '../src/testing';

const UNIQUE_VIOLATION = '23505';
const CHECK_VIOLATION = '23514';

describe('initial migration on Postgres', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;
  let nextUserId = 1;

  beforeAll(async () => {
    testSchema = await createTestSchema('db_migrations');
    handle = await openTestDatabase(testSchema);
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  // Each test gets users of its own, so no test depends on another's rows.
  async function createUsers(count: number): Promise<number[]> {
    const ids = Array.from({ length: count }, () => nextUserId++);
    await handle.db
      .insertInto('users')
      .values(ids.map((id) => ({ id, display_name: `user ${id}` })))
      .execute();
    return ids;
  }

  function newMatch(userA: number, userB: number, overrides: Partial<NewMatch> = {}): NewMatch {
    return {
      user_a: userA,
      user_b: userB,
      created_by: userA,
      expires_at: new Date(Date.now() + 86_400_000),
      ...overrides,
    };
  }

  async function createMatch(userA: number, userB: number): Promise<number> {
    const { id } = await handle.db
      .insertInto('matches')
      .values(newMatch(userA, userB))
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  function insertMessage(matchId: number, senderId: number, seq: number, clientId: string) {
    const message: NewMessage = {
      match_id: matchId,
      sender_id: senderId,
      seq,
      client_id: clientId,
      body: 'hi',
    };
    return handle.db.insertInto('messages').values(message).execute();
  }

  test('when a user is inserted with only the required columns, then the defaults fill the rest', async () => {
    const [id] = await createUsers(1);
    const user = await handle.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id!)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({
      id,
      interests: [],
      is_premium: false,
      verification_status: 'pending',
      deleted_at: null,
    });
    expect(user.created_at).toBeInstanceOf(Date);
  });

  test('when a second active match is created for the same pair, then the partial unique index rejects it', async () => {
    const [a, b] = (await createUsers(2)) as [number, number];
    const first = await createMatch(a, b);

    await expect(
      handle.db.insertInto('matches').values(newMatch(a, b)).execute(),
    ).rejects.toMatchObject({ code: UNIQUE_VIOLATION, constraint: 'matches_active_pair_key' });

    // Only active matches are unique: once the first has ended, the pair may match again.
    await handle.db
      .updateTable('matches')
      .set({ status: 'expired', ended_at: new Date() })
      .where('id', '=', first)
      .execute();
    await expect(createMatch(a, b)).resolves.toEqual(expect.any(Number));
  });

  test('when user_a is not less than user_b, then the pair order check rejects the match', async () => {
    const [a, b] = (await createUsers(2)) as [number, number];

    await expect(
      handle.db.insertInto('matches').values(newMatch(b, a)).execute(),
    ).rejects.toMatchObject({ code: CHECK_VIOLATION, constraint: 'matches_pair_order' });
    await expect(
      handle.db.insertInto('matches').values(newMatch(a, a)).execute(),
    ).rejects.toMatchObject({ code: CHECK_VIOLATION, constraint: 'matches_pair_order' });
  });

  test('when two messages of a match share a seq, then the second is rejected', async () => {
    const [a, b] = (await createUsers(2)) as [number, number];
    const matchId = await createMatch(a, b);
    await insertMessage(matchId, a, 1, 'c1');

    await expect(insertMessage(matchId, b, 1, 'c2')).rejects.toMatchObject({
      code: UNIQUE_VIOLATION,
      constraint: 'messages_match_seq_key',
    });
  });

  test('when a sender reuses a client id in the same match, then the resend is rejected', async () => {
    const [a, b] = (await createUsers(2)) as [number, number];
    const matchId = await createMatch(a, b);
    await insertMessage(matchId, a, 1, 'c1');

    await expect(insertMessage(matchId, a, 2, 'c1')).rejects.toMatchObject({
      code: UNIQUE_VIOLATION,
      constraint: 'messages_client_id_key',
    });

    // The same client id from the other participant is a different message.
    await expect(insertMessage(matchId, b, 2, 'c1')).resolves.toBeDefined();
  });

  test('when a match is deleted, then its messages go with it; when a user is deleted, then messages no longer name them', async () => {
    const [a, b, c, d] = (await createUsers(4)) as [number, number, number, number];
    const gone = await createMatch(a, b);
    const kept = await createMatch(c, d);
    await insertMessage(gone, a, 1, 'c1');
    await insertMessage(kept, c, 1, 'c1');
    // Written past append_messages, which would refuse it: a sender outside the match, who has
    // no match of their own and so can be deleted.
    const [stranger] = (await createUsers(1)) as [number];
    await insertMessage(kept, stranger, 2, 'c2');

    await handle.db.deleteFrom('matches').where('id', '=', gone).execute();
    await handle.db.deleteFrom('users').where('id', '=', stranger).execute();

    const left = await handle.db
      .selectFrom('messages')
      .select(['match_id', 'sender_id'])
      .where('match_id', 'in', [gone, kept])
      .orderBy('seq')
      .execute();
    expect(left).toEqual([
      { match_id: kept, sender_id: c },
      { match_id: kept, sender_id: null },
    ]);
  });

  test('when a column is given a value outside its allowed set, then its check rejects it', async () => {
    const [a, b] = (await createUsers(2)) as [number, number];
    const matchId = await createMatch(a, b);
    // Raw SQL: the typed builder would not even let these values through.
    const cases = [
      [
        sql`INSERT INTO users (id, display_name, gender) VALUES (${b + 1000}, 'x', 'other')`,
        'users_gender_check',
      ],
      [
        sql`INSERT INTO users (id, display_name, verification_status) VALUES (${b + 1001}, 'x', 'banned')`,
        'users_verification_status_check',
      ],
      [
        sql`INSERT INTO users (id, display_name) VALUES (${b + 1002}, '')`,
        'users_display_name_length',
      ],
      [sql`UPDATE matches SET status = 'paused' WHERE id = ${matchId}`, 'matches_status_check'],
      [
        sql`UPDATE matches SET secret_chat = 'maybe' WHERE id = ${matchId}`,
        'matches_secret_chat_check',
      ],
      [sql`INSERT INTO reports (reason) VALUES ('rude')`, 'reports_reason_check'],
      [sql`INSERT INTO reports (reason, status) VALUES ('spam', 'closed')`, 'reports_status_check'],
      [sql`INSERT INTO blocks (blocker_id, blocked_id) VALUES (${a}, ${a})`, 'blocks_not_self'],
    ] as const;

    for (const [statement, constraint] of cases) {
      await expect(statement.execute(handle.db)).rejects.toMatchObject({
        code: CHECK_VIOLATION,
        constraint,
      });
    }
  });

  // Last: it empties the schema the tests above use.
  test('when migrated down, then no tables are left in the schema', async () => {
    const results = await migrateAllDown(handle.db, testSchema.schema);
    expect(results.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
      Object.keys(migrations)
        .sort()
        .reverse()
        .map((name) => [name, 'Down', 'Success']),
    );

    // Kysely's own bookkeeping tables stay: they record that the migration was undone.
    const { rows: tables } = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = ${testSchema.schema} AND table_name NOT LIKE 'kysely_migration%'
    `.execute(handle.db);
    expect(tables).toEqual([]);
  });
});

describe('per-side message counts migration', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    testSchema = await createTestSchema('db_per_side_counts');
    handle = await openTestDatabase(testSchema);
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  const migrator = () =>
    new Migrator({
      db: handle.db,
      provider: { getMigrations: async () => migrations },
      migrationTableSchema: testSchema.schema,
    });

  test('when matches held messages before it, then each side’s count is backfilled, the level reached is recorded, and append_messages moves the counts after', async () => {
    // Down to just before it: the later migrations first, newest first, then this one.
    const down = await migrator().migrateTo('20261123T150000_append_messages');
    expect(down.error).toBeUndefined();
    expect(down.results?.at(-1)).toMatchObject({
      migrationName: '20261129T060000_per_side_message_counts',
      direction: 'Down',
      status: 'Success',
    });
    expect(down.results?.every((r) => r.status === 'Success')).toBe(true);
    await handle.db
      .insertInto('users')
      .values([1, 2, 3, 4].map((id) => ({ id, display_name: `user ${id}` })))
      .execute();
    const expires = new Date(Date.now() + 86_400_000);
    // Match 1: 150 messages from user 1 alone. Match 2: 30 from each side.
    await sql`
      INSERT INTO matches (id, user_a, user_b, created_by, expires_at, message_count)
      VALUES (1, 1, 2, 1, ${expires}, 150), (2, 3, 4, 3, ${expires}, 60)`.execute(handle.db);
    await sql`
      INSERT INTO messages (match_id, seq, sender_id, client_id, body)
      SELECT 1, n, 1, 'c' || n, 'alone' FROM generate_series(1, 150) n
      UNION ALL
      SELECT 2, n, CASE WHEN n % 2 = 0 THEN 3 ELSE 4 END, 'c' || n, 'both'
      FROM generate_series(1, 60) n`.execute(handle.db);

    await migrateToLatest(handle.db, testSchema.schema);
    const counts = () =>
      handle.db
        .selectFrom('matches')
        .select(['id', 'message_count', 'a_message_count', 'b_message_count', 'unlocked_level'])
        .orderBy('id')
        .execute();
    expect(await counts()).toEqual([
      { id: 1, message_count: 150, a_message_count: 150, b_message_count: 0, unlocked_level: 0 },
      { id: 2, message_count: 60, a_message_count: 30, b_message_count: 30, unlocked_level: 2 },
    ]);

    await sql`
      SELECT * FROM append_messages(
        ARRAY[1, 1, 2]::bigint[], ARRAY[2, 1, 4]::bigint[], ARRAY['x', 'y', 'z']::text[],
        ARRAY['hi', 'hi', 'hi']::text[], 0)`.execute(handle.db);
    expect(await counts()).toEqual([
      { id: 1, message_count: 152, a_message_count: 151, b_message_count: 1, unlocked_level: 0 },
      { id: 2, message_count: 61, a_message_count: 30, b_message_count: 31, unlocked_level: 2 },
    ]);
  });
});

describe('initial migration on PGlite', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'mm-db-pglite-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('when migrated, then a user can be inserted and read back', async () => {
    const handle = await openDatabase({ kind: 'pglite', dataDir });
    try {
      await migrateToLatest(handle.db);
      await handle.db
        .insertInto('users')
        .values({
          id: 42,
          display_name: 'Ada',
          gender: 'female',
          birth_date: '1990-05-17',
          interests: ['chess', 'hiking'],
        })
        .execute();

      const user = await handle.db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', 42)
        .executeTakeFirstOrThrow();
      expect(user).toMatchObject({
        id: 42,
        display_name: 'Ada',
        gender: 'female',
        birth_date: '1990-05-17',
        interests: ['chess', 'hiking'],
        verification_status: 'pending',
      });
      expect(user.created_at).toBeInstanceOf(Date);
    } finally {
      await handle.close();
    }
  });
});

describe('unsend and delivery migration', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    testSchema = await createTestSchema('db_unsend_delivery');
    handle = await openTestDatabase(testSchema);
    await migrateToLatest(handle.db, testSchema.schema);
    await handle.db.insertInto('users').values({ id: 1, display_name: 'one' }).execute();
    await handle.db.insertInto('users').values({ id: 2, display_name: 'two' }).execute();
    await sql`
      INSERT INTO matches (id, user_a, user_b, created_by, expires_at, message_count)
      VALUES (1, 1, 2, 1, now() + interval '1 day', 1)`.execute(handle.db);
    await sql`INSERT INTO messages (match_id, seq, sender_id, client_id, body)
              VALUES (1, 1, 1, 'c1', 'hello')`.execute(handle.db);
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  test('when a body is erased without deleted_at, or deleted_at set with the body kept, then the check refuses it', async () => {
    await expect(
      sql`UPDATE messages SET body = NULL WHERE id = 1`.execute(handle.db),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      sql`UPDATE messages SET deleted_at = now() WHERE id = 1`.execute(handle.db),
    ).rejects.toMatchObject({ code: '23514' });
    await sql`UPDATE messages SET body = NULL, deleted_at = now() WHERE id = 1`.execute(handle.db);
  });

  test('when a new match is made, then both delivered watermarks start at 0', async () => {
    const match = await handle.db
      .selectFrom('matches')
      .select(['a_last_delivered_seq', 'b_last_delivered_seq'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    expect(match).toEqual({ a_last_delivered_seq: 0, b_last_delivered_seq: 0 });
  });
});
