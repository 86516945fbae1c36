// `npm run db:migrate`: migrates DATABASE_URL (optionally checking that its role's search_path is
// DATABASE_SCHEMA), or the embedded PGlite folder (DATA_DIR, default ./.data) when DATABASE_URL is
// unset. It works through PgBouncer in transaction mode: every pending migration runs in one
// transaction, under kysely's transaction-scoped advisory lock.
import { openDatabase } from './connection';
import { migrateToLatest } from './migrate';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const schema = process.env.DATABASE_SCHEMA;
  const handle = await openDatabase(
    url
      ? {
          kind: 'postgres',
          url,
          poolSize: 1,
          // A migration may rewrite a large table: no statement or idle-transaction limit here.
          timeouts: { statementMs: 0, idleInTransactionMs: 0 },
        }
      : { kind: 'pglite', dataDir: process.env.DATA_DIR ?? './.data' },
  );
  try {
    const results = await migrateToLatest(handle.db, schema);
    for (const r of results) console.log(`${r.status}: ${r.migrationName}`);
    if (results.length === 0) console.log('already at the latest migration');
  } finally {
    await handle.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
