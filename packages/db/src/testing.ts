import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Client } from 'pg';
import { migrateToLatest } from './migrate';
import { openDatabase, quoteIdent, type DatabaseHandle } from './connection';
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

/** Opens a pool on a test schema. */
export function openTestDatabase(test: TestSchema, poolSize = 5): Promise<DatabaseHandle> {
  return openDatabase({ kind: 'postgres', url: test.url, poolSize, schema: test.schema });
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
