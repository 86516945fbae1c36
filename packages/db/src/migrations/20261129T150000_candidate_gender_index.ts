import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code.
//
// A search with a gender walked users_candidates_idx in activity order and passed over every more
// recently active user of the other genders. Gender is included there, but PostgreSQL checks a
// tuple's visibility before the filter, and on a table whose last_active_at keeps changing few
// pages are all-visible: each user passed over cost a heap read. When the recently active are
// mostly one gender (the searchers themselves, whom searching keeps on top), a search for another
// read thousands of them. Under gender first the walk starts among that gender and reads about
// the page. No gender (and a city, with users_candidates_city_idx) still walk the others.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX users_candidates_gender_idx ON users (gender, last_active_at DESC, id)
      INCLUDE (birth_date)
      WHERE verification_status = 'approved' AND deleted_at IS NULL
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX users_candidates_gender_idx`.execute(db);
}
