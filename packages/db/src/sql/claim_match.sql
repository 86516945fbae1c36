-- claim_match: stores a match found by find-match, with everything that goes with it, in one
-- statement (docs/design.md §3.1 and §3.2).
--
-- This file is the CURRENT definition. The migration that defines the function
-- (20261129T170000_find_match_functions) runs it and pins its sha256: to change the function,
-- follow "Changing a SQL function" in packages/db/README.md. packages/db/test/sql-files.test.ts
-- checks that the migrated database holds exactly what this file defines.
--
-- Why a function: its statement is parsed and planned once per session (see match_candidates.sql
-- for the why), and through a transaction pooler too. The statement is the whole claim, so it
-- holds its locks for that statement only and fails as a whole:
--
-- 1. `live` share-locks both users' rows (in id order) and checks both are live. An account
--    deletion, which updates its row first, then either waits for this statement and ends the
--    match it stored, or makes the check fail. Share locks do not conflict with each other, so many
--    searchers claiming the same candidate at once do not queue behind each other.
-- 2. `slot` takes one of the searcher's matches for today (UTC, by the database's clock): a
--    conditional upsert on the searcher's counter row, so concurrent searches of one user queue on
--    that row and never pass `daily_limit`. With `daily_limit` null (premium) the slot has no cap
--    but is counted all the same, so the day's count (`matches_today`) is everyone's.
-- 3. `claimed` inserts the match. A pair that got an active match meanwhile violates the partial
--    unique index: the call fails as a whole, the slot with it, with a unique violation (23505).
-- 4. `push` enqueues the partner's `match` push (the searcher has the answer), under the event key
--    `enqueueNotifications` uses: stored with the match or not at all.
-- 5. The answer reads both users' rows, for the views of the match each is sent.
--
-- No row: either user is deleted, or the searcher reached the limit.
CREATE OR REPLACE FUNCTION claim_match(
  searcher_id bigint, other_id bigint,
  -- The searcher's matches a day; null for premium (no limit, still counted).
  daily_limit int,
  -- The match's lifetime, from the database's clock.
  ttl_seconds float8
)
RETURNS TABLE (
  -- The match, as `matches` holds it.
  id bigint,
  user_a bigint,
  user_b bigint,
  created_by bigint,
  status text,
  created_at timestamptz,
  expires_at timestamptz,
  extended_count integer,
  message_count bigint,
  secret_chat text,
  secret_requested_by bigint,
  a_last_read_seq bigint,
  b_last_read_seq bigint,
  ended_at timestamptz,
  ended_by bigint,
  a_message_count bigint,
  b_message_count bigint,
  unlocked_level smallint,
  expiry_warned_at timestamptz,
  a_last_delivered_seq bigint,
  b_last_delivered_seq bigint,
  -- user_a's row, as `users` holds it, and whether they uploaded a photo: each column named
  -- "a.<column>".
  "a.id" bigint,
  "a.display_name" text,
  "a.email" text,
  "a.gender" text,
  "a.birth_date" date,
  "a.city" text,
  "a.interests" text[],
  "a.bio" text,
  "a.photo_url" text,
  "a.is_premium" boolean,
  "a.premium_until" timestamptz,
  "a.verification_status" text,
  "a.last_active_at" timestamptz,
  "a.created_at" timestamptz,
  "a.updated_at" timestamptz,
  "a.deleted_at" timestamptz,
  "a.verification_note" text,
  "a.has_uploaded_photo" boolean,
  -- user_b's row, as `users` holds it, and whether they uploaded a photo: each column named
  -- "b.<column>".
  "b.id" bigint,
  "b.display_name" text,
  "b.email" text,
  "b.gender" text,
  "b.birth_date" date,
  "b.city" text,
  "b.interests" text[],
  "b.bio" text,
  "b.photo_url" text,
  "b.is_premium" boolean,
  "b.premium_until" timestamptz,
  "b.verification_status" text,
  "b.last_active_at" timestamptz,
  "b.created_at" timestamptz,
  "b.updated_at" timestamptz,
  "b.deleted_at" timestamptz,
  "b.verification_note" text,
  "b.has_uploaded_photo" boolean
)
LANGUAGE plpgsql
-- The tables are the ones of the schema the function was created in, whatever the caller's
-- search_path (each test file, and each DATABASE_SCHEMA, has its own).
SET search_path FROM CURRENT
-- The plan is the same whatever the values: planned once per session.
SET plan_cache_mode = force_generic_plan
AS $fn$
-- The output columns share names with table columns: a bare name means the column.
#variable_conflict use_column
DECLARE
  -- A match's pair is stored smaller id first (user_a < user_b).
  first_id bigint := least(searcher_id, other_id);
  second_id bigint := greatest(searcher_id, other_id);
BEGIN
  RETURN QUERY
  WITH live AS (
    SELECT count(*) = 2 AS ok FROM (
      SELECT users.id FROM users
      WHERE users.id IN (first_id, second_id) AND users.deleted_at IS NULL
      ORDER BY users.id FOR SHARE
    ) AS locked
  ),
  slot AS (
    INSERT INTO daily_match_counts AS counted (user_id, day, count)
    SELECT searcher_id, (now() AT TIME ZONE 'utc')::date, 1 FROM live WHERE live.ok
    ON CONFLICT (user_id, day) DO UPDATE SET count = counted.count + 1
      WHERE daily_limit IS NULL OR counted.count < daily_limit
    RETURNING counted.count
  ),
  claimed AS (
    INSERT INTO matches (user_a, user_b, created_by, expires_at)
    SELECT first_id, second_id, searcher_id, now() + make_interval(secs => ttl_seconds)
    FROM live
    WHERE live.ok AND EXISTS (SELECT 1 FROM slot)
    RETURNING *
  ),
  push AS (
    INSERT INTO notification_outbox (user_id, match_id, kind, event_key)
    SELECT other_id, claimed.id, 'match', 'match:' || claimed.id || ':' || other_id
    FROM claimed
    ON CONFLICT (event_key) DO NOTHING
  )
  SELECT
    claimed.id,
    claimed.user_a,
    claimed.user_b,
    claimed.created_by,
    claimed.status,
    claimed.created_at,
    claimed.expires_at,
    claimed.extended_count,
    claimed.message_count,
    claimed.secret_chat,
    claimed.secret_requested_by,
    claimed.a_last_read_seq,
    claimed.b_last_read_seq,
    claimed.ended_at,
    claimed.ended_by,
    claimed.a_message_count,
    claimed.b_message_count,
    claimed.unlocked_level,
    claimed.expiry_warned_at,
    claimed.a_last_delivered_seq,
    claimed.b_last_delivered_seq,
    a.id,
    a.display_name,
    a.email,
    a.gender,
    a.birth_date,
    a.city,
    a.interests,
    a.bio,
    a.photo_url,
    a.is_premium,
    a.premium_until,
    a.verification_status,
    a.last_active_at,
    a.created_at,
    a.updated_at,
    a.deleted_at,
    a.verification_note,
    EXISTS (SELECT 1 FROM user_photos p WHERE p.user_id = a.id),
    b.id,
    b.display_name,
    b.email,
    b.gender,
    b.birth_date,
    b.city,
    b.interests,
    b.bio,
    b.photo_url,
    b.is_premium,
    b.premium_until,
    b.verification_status,
    b.last_active_at,
    b.created_at,
    b.updated_at,
    b.deleted_at,
    b.verification_note,
    EXISTS (SELECT 1 FROM user_photos p WHERE p.user_id = b.id)
  FROM claimed
  JOIN users a ON a.id = claimed.user_a
  JOIN users b ON b.id = claimed.user_b;
END
$fn$;
