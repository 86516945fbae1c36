import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code.

export async function up(db: Kysely<any>): Promise<void> {
  // The daily match limit, enforced in the database: find-match increments the caller's row for
  // the UTC day with a conditional upsert in the same transaction as the match insert, so
  // concurrent requests (on any pod) serialise on this row and can never pass the limit.
  await sql`
    CREATE TABLE daily_match_counts (
      user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      day date NOT NULL,
      count int NOT NULL CONSTRAINT daily_match_counts_count_check CHECK (count >= 0),
      PRIMARY KEY (user_id, day)
    )
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS daily_match_counts`.execute(db);
}
