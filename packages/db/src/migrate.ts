import type { Kysely } from 'kysely';
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

/** Brings the schema to the latest migration. */
export async function migrateToLatest(
  db: Kysely<any>,
  schema?: string,
): Promise<MigrationResult[]> {
  return unwrap(await migrator(db, schema).migrateToLatest());
}

/** Undoes every migration, newest first: what a test of the `down` functions runs. */
export async function migrateAllDown(db: Kysely<any>, schema?: string): Promise<MigrationResult[]> {
  return unwrap(await migrator(db, schema).migrateTo(NO_MIGRATIONS));
}
