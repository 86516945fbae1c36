import { sql, type Kysely } from 'kysely';
import { NO_MIGRATIONS, Migrator, type MigrationResult } from 'kysely/migration';
import { migrations } from './migrations';

/**
 * The migrator for a database, or for one schema of it. Naming the schema matters: without it,
 * kysely looks for its bookkeeping tables in every schema, and finding another schema's would skip
 * creating ours.
 */
function migrator(db: Kysely<any>, schema?: string): Migrator {
  return new Migrator({
    db,
    // Listed statically (not read from a folder) so sources and compiled output both work.
    provider: { getMigrations: async () => migrations },
    ...(schema && { migrationTableSchema: schema }),
  });
}

function unwrap({
  error,
  results = [],
}: {
  error?: unknown;
  results?: MigrationResult[];
}): MigrationResult[] {
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return results;
}

/**
 * Brings the schema to the latest migration. With `schema` (DATABASE_SCHEMA) the connection must
 * already land in it: the tables go wherever the role's search_path puts them, so a mismatch
 * stops here instead of migrating into another schema.
 */
export async function migrateToLatest(
  db: Kysely<any>,
  schema?: string,
): Promise<MigrationResult[]> {
  if (schema !== undefined) await expectCurrentSchema(db, schema);
  return inOneTransaction(db, (trx) => migrator(trx, schema).migrateToLatest());
}

/**
 * Fails unless `current_schema()` is `schema`. The schema is never chosen per connection (a
 * transaction pooler passes no `options` and shares sessions): the role's own setting names it.
 */
export async function expectCurrentSchema(db: Kysely<any>, schema: string): Promise<void> {
  const { rows } = await sql<{
    current: string | null;
  }>`select current_schema() as current`.execute(db);
  const current = rows[0]?.current ?? null;
  if (current !== schema) {
    throw new Error(
      `DATABASE_SCHEMA is ${schema}, but this role's search_path puts tables in ` +
        `${current ?? 'no existing schema'}: run ALTER ROLE <role> SET search_path = ${schema} ` +
        '(a pooler passes no per-connection search_path)',
    );
  }
}

/** Undoes every migration, newest first: what a test of the `down` functions runs. */
export async function migrateAllDown(db: Kysely<any>, schema?: string): Promise<MigrationResult[]> {
  return inOneTransaction(db, (trx) => migrator(trx, schema).migrateTo(NO_MIGRATIONS));
}

/**
 * Runs a migrator in one transaction of ours, which it then uses for everything. On PostgreSQL the
 * dialect's migration lock is `pg_advisory_xact_lock` (connection.ts), taken in that transaction:
 * a transaction pooler (PgBouncer) may hand each statement outside a transaction to another server
 * connection, so kysely's own session-level lock and unlock could land on two sessions and leave
 * the lock held. A failed migration rolls everything back, the lock with it.
 */
function inOneTransaction(
  db: Kysely<any>,
  run: (trx: Kysely<any>) => Promise<{ error?: unknown; results?: MigrationResult[] }>,
): Promise<MigrationResult[]> {
  return db.transaction().execute(async (trx) => unwrap(await run(trx)));
}
