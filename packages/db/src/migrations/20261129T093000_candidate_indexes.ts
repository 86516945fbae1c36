import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code.
//
// Find-match reads the most recently active visible users inside the caller's filters and stops
// after a few dozen (docs/design.md §3.1). The old (verification_status, gender, city,
// last_active_at) index could give that order only when both gender and the exact city were
// given, and the city filter compares lower(city), so most searches sorted every visible user of
// the gender. These partial indexes hold only visible users, in last_active_at order, one
// plain and one under lower(city); gender and birth date are included so the gender and age
// filters are checked on the index entry, and the city one includes city so PostgreSQL can answer
// from the index alone. Nothing else used the old index: it goes, and with it one index that
// every last_active_at update had to write.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX users_candidates_idx ON users (last_active_at DESC, id)
      INCLUDE (gender, birth_date)
      WHERE verification_status = 'approved' AND deleted_at IS NULL
  `.execute(db);
  await sql`
    CREATE INDEX users_candidates_city_idx ON users (lower(city), last_active_at DESC, id)
      INCLUDE (city, gender, birth_date)
      WHERE verification_status = 'approved' AND deleted_at IS NULL
  `.execute(db);
  await sql`DROP INDEX users_discovery_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX users_discovery_idx
      ON users (verification_status, gender, city, last_active_at DESC)
  `.execute(db);
  await sql`DROP INDEX users_candidates_city_idx`.execute(db);
  await sql`DROP INDEX users_candidates_idx`.execute(db);
}
