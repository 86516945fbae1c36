import { sql, type Kysely } from 'kysely';
import { sqlFile } from '../sql/sql-file';

// Frozen in time: raw SQL only, no imports from application code (but the loader of src/sql).
//
// A reconnect storm's handshakes read each user's standing and match rooms, then their unread
// total and partners' last-seen, in batches of a few users: sent as plain statements, PostgreSQL
// parsed and planned each batch's reads, more of its CPU than running them. As plpgsql functions
// their plans are kept per session (docs/design.md §5), through a transaction pooler too.
// connecting_users and connecting_views are src/sql/connecting_users.sql and
// src/sql/connecting_views.sql, pinned by their sha256.

export async function up(db: Kysely<any>): Promise<void> {
  await sqlFile(
    'connecting_users.sql',
    'e0ee69c41b235309a049a11d22207ae3885ef1978485fd9c1d7be31086223f13',
  ).execute(db);
  await sqlFile(
    'connecting_views.sql',
    '7f66d1fdc29c09363db0c0c26bb9d76866b992873803b262a14356841298cce9',
  ).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION connecting_views(bigint[], int)`.execute(db);
  await sql`DROP FUNCTION connecting_users(bigint[])`.execute(db);
}
