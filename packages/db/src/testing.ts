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
  /** The login role of the same name, whose `search_path` is the schema. */
  role: string;
  /** Its password (the role logs in with one, so a pooler's auth_file can name it). */
  password: string;
  /** `testDatabaseUrl` as that role: every connection on it lands in the schema. */
  url: string;
  /** Drops the schema, everything in it, and the role. */
  drop(): Promise<void>;
}

/**
 * A fresh schema of its own for one test file, so files run in parallel and again, reached through
 * a login role of its own whose `search_path` names it (`ALTER ROLE … SET search_path`). The
 * server applies a role's settings to every session it opens for that role, so the isolation holds
 * through a transaction pooler too, which passes no `options` startup parameter (docs/operations.md,
 * "PgBouncer"). Not migrated: `createTestSchema` is this plus the migrations. `label` only makes
 * the name readable in psql.
 */
export async function createTestRole(label: string): Promise<TestSchema> {
  // Names stay within PostgreSQL's 63 bytes: a longer role name would be cut short on creation
  // and the URL's would then name no role.
  const readable = label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 40);
  const name = `t_${readable}_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  const ident = quoteIdent(name);
  const url = new URL(testDatabaseUrl);
  await ensureTestGroup(decodeURIComponent(url.pathname.slice(1)));
  await asAdmin(
    `CREATE ROLE ${ident} LOGIN PASSWORD '${password}' IN ROLE ${TEST_GROUP}`,
    `CREATE SCHEMA ${ident} AUTHORIZATION ${ident}`,
    `ALTER ROLE ${ident} SET search_path = ${ident}`,
  );
  url.username = name;
  url.password = password;
  return {
    schema: name,
    role: name,
    password,
    url: url.toString(),
    // DROP OWNED drops the schemas the role owns and everything in them; then nothing refers to
    // the role any more (its group membership goes with it).
    drop: () =>
      asAdmin(
        `DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${name}') THEN ` +
          `DROP OWNED BY ${ident} CASCADE; DROP ROLE ${ident}; END IF; END $$`,
      ),
  };
}

/**
 * The group every test role is in: it may create schemas in the test database (a test may make
 * scratch schemas of its own; the role owns them, so `drop` removes them). Granted to the group
 * once, not to each role: concurrent GRANTs on one database row fail ("tuple concurrently
 * updated"), and so would the REVOKEs of concurrent drops.
 */
const TEST_GROUP = 'mm_test_roles';
let testGroup: Promise<void> | undefined;

function ensureTestGroup(database: string): Promise<void> {
  const ensure = () =>
    asAdmin(
      `DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TEST_GROUP}') THEN
          CREATE ROLE ${TEST_GROUP} NOLOGIN;
        END IF;
        IF NOT has_database_privilege('${TEST_GROUP}', '${database.replace(/'/g, "''")}', 'CREATE') THEN
          GRANT CREATE ON DATABASE ${quoteIdent(database)} TO ${TEST_GROUP};
        END IF;
      END $$`,
    );
  // A first run on a fresh server may race another file's: the second attempt finds it done.
  testGroup ??= ensure().catch(ensure);
  return testGroup;
}

/** A fresh, migrated schema of its own for one test file (see `createTestRole`). */
export async function createTestSchema(label: string): Promise<TestSchema> {
  const test = await createTestRole(label);
  const handle = await openTestDatabase(test, 2);
  try {
    await migrateToLatest(handle.db, test.schema);
  } finally {
    await handle.close();
  }
  return test;
}

/**
 * Runs `statements` on a one-off superuser connection. A connection that dies between its queries
 * (a chaos test restarting PostgreSQL) makes the next query fail; without a listener it would end
 * the process.
 */
async function asAdmin(...statements: string[]): Promise<void> {
  const client = new Client({ connectionString: testDatabaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Opens a pool on a test schema: through `url` when given (a pooler's, as the same role), with
 * `timeouts` for seeding far more rows than a request would.
 */
export function openTestDatabase(
  test: TestSchema,
  poolSize = 5,
  { url = test.url, timeouts }: { url?: string; timeouts?: Partial<PostgresTimeouts> } = {},
): Promise<DatabaseHandle> {
  return openDatabase({ kind: 'postgres', url, poolSize, ...(timeouts && { timeouts }) });
}

/** Bare users (a display name, nothing else) with these ids. */
export async function insertUsers(db: Kysely<Database>, ids: readonly number[]): Promise<void> {
  await db
    .insertInto('users')
    .values(ids.map((id) => ({ id, display_name: `user ${id}` })))
    .execute();
}

/** A match between two existing users, `userA` its creator, open for a day; its id. */
export async function insertMatch(
  db: Kysely<Database>,
  userA: number,
  userB: number,
): Promise<number> {
  const { id } = await db
    .insertInto('matches')
    .values({
      user_a: userA,
      user_b: userB,
      created_by: userA,
      expires_at: new Date(Date.now() + 86_400_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
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
