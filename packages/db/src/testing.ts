import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { Client } from 'pg';
import { migrateToLatest } from './migrate';
import { openDatabase, quoteIdent, type DatabaseHandle, type PostgresTimeouts } from './connection';
import type { Database } from './schema';

/** The Postgres the tests use: the machine's local one unless TEST_DATABASE_URL says otherwise. */
export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** The schema's name: give it to child processes as DATABASE_SCHEMA. */
  schema: string;
  url: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/**
 * A fresh, migrated schema of its own for one test file, so files run in parallel and again.
 * `label` only makes the name readable in psql.
 */
export async function createTestSchema(label: string): Promise<TestSchema> {
  const schema = `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = adminClient();
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  } finally {
    await admin.end();
  }
  const handle = await openDatabase({
    kind: 'postgres',
    url: testDatabaseUrl,
    poolSize: 2,
    schema,
  });
  try {
    await migrateToLatest(handle.db, schema);
  } finally {
    await handle.close();
  }
  return {
    schema,
    url: testDatabaseUrl,
    async drop() {
      const client = adminClient();
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A one-off client for schema DDL. A connection that dies between its queries (a chaos test
 * restarting PostgreSQL) makes the next query fail; without a listener it would end the process.
 */
function adminClient(): Client {
  const client = new Client({ connectionString: testDatabaseUrl });
  client.on('error', () => undefined);
  return client;
}

/** Opens a pool on a test schema (`timeouts`: for seeding far more rows than a request would). */
export function openTestDatabase(
  test: TestSchema,
  poolSize = 5,
  timeouts?: Partial<PostgresTimeouts>,
): Promise<DatabaseHandle> {
  return openDatabase({
    kind: 'postgres',
    url: test.url,
    poolSize,
    schema: test.schema,
    ...(timeouts && { timeouts }),
  });
}

/**
 * Sets a match's message counts as though both sides wrote half each (a level needs both to take
 * part), to reach an unlock level without sending the messages.
 */
export function setMessageCounts(db: Kysely<Database>, matchId: number, count: number) {
  return db
    .updateTable('matches')
    .set({
      message_count: count,
      a_message_count: Math.ceil(count / 2),
      b_message_count: Math.floor(count / 2),
    })
    .where('id', '=', matchId)
    .execute();
}

/**
 * Inserts users `1..count` with full, approved-or-not profiles, in one statement (tests and
 * benches of matching at scale). Deterministic spreads: 1 in 20 nonbinary, the rest male and
 * female in turn; birth dates over 44 years; 500 cities, a few large and many small (the cube
 * skews towards `City 0`), written in title case; 30 interests (`i0`..`i29`), three each; 1 in 10
 * pending, 1 in 100 deleted; last activity spread over the past 60 days.
 */
export async function seedProfiles(db: Kysely<Database>, count: number): Promise<void> {
  await sql`
    INSERT INTO users (id, display_name, gender, birth_date, city, interests,
                       verification_status, last_active_at, deleted_at)
    SELECT n, 'u' || n,
      CASE WHEN n % 20 = 0 THEN 'nonbinary' WHEN n % 2 = 0 THEN 'female' ELSE 'male' END,
      date '1960-01-01' + (n::bigint * 7919 % 16000)::int,
      'City ' || floor(500 * power(((n::bigint * 104723) % 1000003) / 1000003.0, 3))::int,
      ARRAY['i' || (n % 30), 'i' || ((n / 30) % 30), 'i' || ((n::bigint * 13 / 7) % 30)],
      CASE WHEN n % 10 = 3 THEN 'pending' ELSE 'approved' END,
      now() - make_interval(secs => (n::bigint * 7907) % (60 * 86400)),
      CASE WHEN n % 100 = 7 THEN now() END
    FROM generate_series(1, ${count}::int) AS n`.execute(db);
}

/**
 * `pairs` matched pairs of new approved users, inserted in bulk from `firstUserId` on: users
 * `firstUserId + 2i` and `+ 2i + 1` in match i, the first one its creator (benches and storms
 * measure chat, not signup).
 */
export async function seedMatchedPairs(
  db: Kysely<Database>,
  pairs: number,
  firstUserId = 1,
): Promise<{ matchId: number; userA: number; userB: number }[]> {
  await sql`INSERT INTO users (id, display_name, verification_status)
            SELECT g, 'pair ' || g, 'approved'
            FROM generate_series(${firstUserId}::int, ${firstUserId + 2 * pairs - 1}::int) AS g`.execute(
    db,
  );
  const rows = await sql<{ id: number; user_a: number; user_b: number }>`
    INSERT INTO matches (user_a, user_b, created_by, expires_at)
    SELECT ${firstUserId}::int + 2 * g, ${firstUserId}::int + 2 * g + 1, ${firstUserId}::int + 2 * g,
           now() + interval '2 days'
    FROM generate_series(0, ${pairs - 1}::int) AS g
    ORDER BY g
    RETURNING id, user_a, user_b`.execute(db);
  return rows.rows
    .map((r) => ({ matchId: r.id, userA: r.user_a, userB: r.user_b }))
    .sort((a, b) => a.userA - b.userA);
}
