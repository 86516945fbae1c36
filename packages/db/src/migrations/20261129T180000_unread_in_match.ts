import { sql, type Kysely } from 'kysely';
import { sqlFile } from '../sql/sql-file';

// Frozen in time: raw SQL only, no imports from application code (but the loader of src/sql).
//
// A match's unread count (what `unread:total` sums) was a subquery whose LIMIT was meant to stop
// the scan at the cap; PostgreSQL read it through a bitmap of the whole backlog instead, so its
// cost grew with the chat. unread_in_match, src/sql/unread_in_match.sql pinned by its sha256,
// walks the (match_id, seq) index and stops at the cap (docs/design.md §4.8).

export async function up(db: Kysely<any>): Promise<void> {
  await sqlFile(
    'unread_in_match.sql',
    'f9cd3847f89a9e3186c4e96e2801f6d496522d8b12ff830eda4e3ab35b3675a2',
  ).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION unread_in_match(bigint, bigint, bigint, int)`.execute(db);
}
