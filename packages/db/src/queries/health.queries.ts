import { sql, type Kysely } from 'kysely';

/** One round trip to the database: readiness uses it to know Postgres (or PGlite) answers. */
export async function pingDatabase(db: Kysely<any>): Promise<void> {
  await sql`select 1`.execute(db);
}
