import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code.
//
// The city filter compares lower(city). The only statistics on that expression were those ANALYZE
// keeps for the partial users_candidates_city_idx, and the planner ignores a partial index's
// statistics, so it guessed 0.5 % for every city: the largest city (about 13 % of users) looked
// as small as the smallest. With a rare gender on top the guess fell under one page of
// candidates, and where the pages were not all-visible (a table whose last_active_at is updated
// all the time) the planner read every recent user of the city through a bitmap scan and sorted
// them: 56,000 rows at 1,000,000 users instead of about 900 in activity order. These statistics
// give lower(city) its own frequencies, and city with gender their joint ones (a city's gender mix
// need not be the country's), so the estimate follows the data. ANALYZE (autovacuum's too) keeps
// them.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE STATISTICS users_city_gender_stats (ndistinct, dependencies, mcv)
      ON (lower(city)), gender FROM users
  `.execute(db);
  await sql`ANALYZE users`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP STATISTICS users_city_gender_stats`.execute(db);
}
