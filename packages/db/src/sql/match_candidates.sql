-- match_candidates: whom a find-match may pair the searcher with (docs/design.md §3.1).
--
-- This file is the CURRENT definition. The migration that defines the function
-- (20261129T170000_find_match_functions) runs it and pins its sha256: to change the function,
-- follow "Changing a SQL function" in packages/db/README.md. packages/db/test/sql-files.test.ts
-- checks that the migrated database holds exactly what this file defines, and
-- packages/db/test/candidates-plan.test.ts checks the plans it runs at 1,000,000 users.
--
-- Why a function: PostgreSQL keeps a plpgsql statement's parse tree, and its plan where the plan
-- may be reused, for the session, so a search costs one short `SELECT` to parse and plan. Sent as
-- a plain statement, the query was parsed and planned on every search, about half the backend's
-- CPU per call (`npm run bench:match`). Named prepared statements would do the same but are
-- lost behind a transaction pooler (PgBouncer in transaction mode); a function's plans are not.
--
-- The candidates are visible to the searcher (approved, not deleted, not restricted, not the
-- searcher, no block either way), in no active match with the searcher, active since
-- `active_since`, and inside the filters (null: no such filter): the `pool_size` most recently
-- active, read in two steps so the cost follows `pool_size`, not the number of users. The inner
-- step walks a candidate index (`users_candidates_idx`, or `users_candidates_gender_idx` under a
-- gender, `users_candidates_city_idx` under a city) in `last_active_at DESC` order and stops after
-- `pool_size` ids pass; only the outer step reads the rows it returns, by primary key, in the same
-- order. The searcher's blocks and active matches (each side through its own index), and the
-- restricted users, are a handful of rows, read once into one hash (`NOT IN`; the ids are never
-- null), so each user passed over costs one probe.
CREATE OR REPLACE FUNCTION match_candidates(
  searcher_id bigint, active_since timestamptz, pool_size int,
  -- The filters: a gender; an age range in whole years from the UTC date (both inclusive); a city,
  -- compared without regard to case; interests, of which a candidate shares at least one.
  wanted_gender text, min_age int, max_age int, wanted_city text, wanted_interests text[],
  -- Also records the searcher's activity at this time (null: not this time), in the same call.
  active_at timestamptz
)
RETURNS TABLE (id bigint, birth_date date, city text, interests text[])
LANGUAGE plpgsql
-- The tables are the ones of the schema the function was created in, whatever the caller's
-- search_path (each test file, and each DATABASE_SCHEMA, has its own).
SET search_path FROM CURRENT
-- Without a city or interests the best plan is the same whatever the values: walk the index of
-- the gender (or of everyone) and stop after the page. It is planned once per session (a generic
-- plan), and sorting is off so that plan is the walk: a generic plan cannot know how few users
-- the filters let through, and from its guess (one) reading them all through a bitmap and sorting
-- looked as cheap as the walk, at 44,000 users read instead of 50.
SET plan_cache_mode = force_generic_plan
SET enable_sort = off
-- Nor parallel workers: from the same guess a parallel walk looked cheaper at 1,000,000 users, and
-- its processes read past the page (twice the users read), while starting them costs more than
-- any walk that stops after a page.
SET max_parallel_workers_per_gather = 0
AS $fn$
-- The output columns share names with table columns: a bare name means the column.
#variable_conflict use_column
DECLARE
  today date := (now() AT TIME ZONE 'utc')::date;
  -- At least min_age: born on or before that many years ago; at most max_age: born after
  -- max_age + 1 years ago. Null when there is no such bound.
  born_by date := (today - make_interval(years => min_age))::date;
  born_after date := (today - make_interval(years => max_age + 1))::date;
  city_key text := lower(wanted_city);
BEGIN
  -- Searching is activity. The update holds the searcher's row lock until the call ends, as a
  -- statement of its own would.
  IF active_at IS NOT NULL THEN
    UPDATE users SET last_active_at = active_at WHERE users.id = searcher_id;
  END IF;

  -- A city or interests: the best plan depends on the values. With a gender as well, the walk
  -- under the city or under the gender, whichever passes over fewer (a large city and a rare
  -- gender, or the reverse); a small city's few recent users may be read whole through a bitmap
  -- and sorted; a rare interest is read through its GIN index. So these are planned with the
  -- values on every call, as a plain statement would be (the SET clauses above restore both
  -- settings when the call returns).
  IF city_key IS NOT NULL OR wanted_interests IS NOT NULL THEN
    PERFORM set_config('plan_cache_mode', 'force_custom_plan', true),
      set_config('enable_sort', 'on', true);
  END IF;

  -- Under a gender its own index: walking everyone's would pass over every more recently active
  -- user of the other genders, and on a live table each costs a heap read (PostgreSQL checks
  -- visibility before the filter). Two statements, as one generic plan cannot choose the index
  -- by whether a gender is given. The two are the same but for that line: change both together.
  IF wanted_gender IS NULL THEN
    RETURN QUERY
    SELECT c.id, c.birth_date, c.city, c.interests
    FROM (
      SELECT u.id, u.last_active_at FROM users u
      WHERE u.verification_status = 'approved' AND u.deleted_at IS NULL
        AND u.last_active_at >= active_since
        AND (born_by IS NULL OR u.birth_date <= born_by)
        AND (born_after IS NULL OR u.birth_date > born_after)
        AND (city_key IS NULL OR lower(u.city) = city_key)
        AND (wanted_interests IS NULL OR u.interests && wanted_interests)
        AND u.id <> searcher_id
        AND u.id NOT IN (
          SELECT b.blocked_id FROM blocks b WHERE b.blocker_id = searcher_id
          UNION ALL SELECT b.blocker_id FROM blocks b WHERE b.blocked_id = searcher_id
          UNION ALL SELECT r.user_id FROM account_restrictions r
            WHERE r.until IS NULL OR r.until > now()
          UNION ALL SELECT m.user_b FROM matches m
            WHERE m.user_a = searcher_id AND m.status = 'active'
          UNION ALL SELECT m.user_a FROM matches m
            WHERE m.user_b = searcher_id AND m.status = 'active')
      ORDER BY u.last_active_at DESC, u.id
      LIMIT pool_size
    ) AS picked
    JOIN users c ON c.id = picked.id
    ORDER BY picked.last_active_at DESC, picked.id;
  ELSE
    RETURN QUERY
    SELECT c.id, c.birth_date, c.city, c.interests
    FROM (
      SELECT u.id, u.last_active_at FROM users u
      WHERE u.verification_status = 'approved' AND u.deleted_at IS NULL
        AND u.gender = wanted_gender
        AND u.last_active_at >= active_since
        AND (born_by IS NULL OR u.birth_date <= born_by)
        AND (born_after IS NULL OR u.birth_date > born_after)
        AND (city_key IS NULL OR lower(u.city) = city_key)
        AND (wanted_interests IS NULL OR u.interests && wanted_interests)
        AND u.id <> searcher_id
        AND u.id NOT IN (
          SELECT b.blocked_id FROM blocks b WHERE b.blocker_id = searcher_id
          UNION ALL SELECT b.blocker_id FROM blocks b WHERE b.blocked_id = searcher_id
          UNION ALL SELECT r.user_id FROM account_restrictions r
            WHERE r.until IS NULL OR r.until > now()
          UNION ALL SELECT m.user_b FROM matches m
            WHERE m.user_a = searcher_id AND m.status = 'active'
          UNION ALL SELECT m.user_a FROM matches m
            WHERE m.user_b = searcher_id AND m.status = 'active')
      ORDER BY u.last_active_at DESC, u.id
      LIMIT pool_size
    ) AS picked
    JOIN users c ON c.id = picked.id
    ORDER BY picked.last_active_at DESC, picked.id;
  END IF;
END
$fn$;
