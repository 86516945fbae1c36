-- connecting_users: what the handshakes of sockets connecting at once need, for many users in one
-- call (docs/design.md §5, "A pod's death"): each account's deleted_at and sanction in force
-- (kind and until; null when none), and the ids of each user's active matches (the rooms the
-- socket joins), one row a match, or one row with a null match_id for a user with none. Every
-- user asked for has a row: one without a profile has a null deleted_at.
--
-- This file is the CURRENT definition. The migration that defines the function
-- (20261129T190000_connecting_functions) runs it and pins its sha256: to change the function,
-- follow "Changing a SQL function" in packages/db/README.md. packages/db/test/sql-files.test.ts
-- checks that the migrated database holds exactly what this file defines, and
-- packages/db/test/connecting-plan.test.ts the rows it reads.
--
-- Why a function: a reconnect storm's batches hold a few users each, and sent as a plain
-- statement PostgreSQL parsed and planned this read on every batch, more of the backend's CPU
-- than running it. A plpgsql statement's plan is kept for the session, through a transaction
-- pooler too (named prepared statements are not).
CREATE OR REPLACE FUNCTION connecting_users(user_ids bigint[])
RETURNS TABLE (
  user_id bigint, deleted_at timestamptz, kind text, until timestamptz, match_id bigint
)
LANGUAGE plpgsql
STABLE
-- The tables are the ones of the schema the function was created in, whatever the caller's
-- search_path (each test file, and each DATABASE_SCHEMA, has its own).
SET search_path FROM CURRENT
-- One plan per session: looking each user's rows up by key is the best plan whatever the ids. (A
-- plan made for the ids given would count them, and never look as cheap as one for any ids.)
SET plan_cache_mode = force_generic_plan
-- Only key lookups left: a plan made while a table was empty or tiny, where a sequential scan
-- looked cheapest, would otherwise read the whole table for each user for the rest of the session.
-- And plain index scans: for a few rows a key a bitmap only costs more.
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $fn$
-- The output columns share names with table columns: a bare name means the column.
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT caller.id, u.deleted_at, r.kind, r.until, m.id
  FROM unnest(user_ids) AS caller(id)
  -- Each looked up by key for each user. LIMIT 1 changes nothing (one row a key) but keeps the
  -- planner from flattening the lookup into a join.
  LEFT JOIN LATERAL (
    SELECT usr.deleted_at FROM users usr WHERE usr.id = caller.id LIMIT 1
  ) u ON true
  LEFT JOIN LATERAL (
    SELECT ar.kind, ar.until FROM account_restrictions ar
    WHERE ar.user_id = caller.id AND (ar.until IS NULL OR ar.until > now())
    LIMIT 1
  ) r ON true
  -- Each side through its own index; a match is never on both sides (user_a < user_b). The status
  -- is checked above the lookup by user (OFFSET 0 keeps it there): beside it, it made other
  -- indexes usable, and a plan made on tables analyzed while empty, where every index looked as
  -- cheap, read one of them whole for each user (the partial index of active matches, or the
  -- other side's (user, status) index by its status), and kept doing so once the table filled.
  LEFT JOIN LATERAL (
    SELECT side.id FROM (
      SELECT ma.id, ma.status FROM matches ma WHERE ma.user_a = caller.id
      UNION ALL
      SELECT mb.id, mb.status FROM matches mb WHERE mb.user_b = caller.id
      OFFSET 0
    ) side
    WHERE side.status = 'active'
  ) m ON true;
END
$fn$;
