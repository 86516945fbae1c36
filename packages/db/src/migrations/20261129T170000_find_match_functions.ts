import { sql, type Kysely } from 'kysely';
import { sqlFile } from '../sql/sql-file';

// Frozen in time: raw SQL only, no imports from application code (but the loader of src/sql).
//
// find-match sent its candidate query and its claim as plain statements, which PostgreSQL parsed
// and planned on every search: about half of the backends' CPU per search. As plpgsql functions
// their plans are kept per session (docs/design.md §3.1), through a transaction pooler too, where
// named prepared statements would be lost. match_candidates and claim_match are
// src/sql/match_candidates.sql and src/sql/claim_match.sql, pinned by their sha256.

export async function up(db: Kysely<any>): Promise<void> {
  await sqlFile(
    'match_candidates.sql',
    'd38cd2933861bdb1999053e64c4fa6d18580821214f9831be48ecc925d7a6155',
  ).execute(db);
  await sqlFile(
    'claim_match.sql',
    'b6772facca9171e9af00df426d842f1578a1efbabc5967c01a5360e8641745ac',
  ).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION claim_match(bigint, bigint, int, float8)`.execute(db);
  await sql`
    DROP FUNCTION match_candidates(bigint, timestamptz, int, text, int, int, text, text[], timestamptz)
  `.execute(db);
}
