-- connecting_views: what sockets connecting at once are told once they joined their rooms, for
-- many users in one call (docs/design.md §5, "A pod's death"): each user's unread total (over all
-- their matches, each match's count up to `cap`, unread_in_match), and the partners of their
-- active matches with when each was last seen (null when deleted), one row a partner, or one row
-- with a null partner_id for a user with no active match.
--
-- This file is the CURRENT definition. The migration that defines the function
-- (20261129T190000_connecting_functions) runs it and pins its sha256: to change the function,
-- follow "Changing a SQL function" in packages/db/README.md. packages/db/test/sql-files.test.ts
-- checks that the migrated database holds exactly what this file defines, and
-- packages/db/test/connecting-plan.test.ts the rows it reads.
--
-- Why a function: as connecting_users, the plan is kept for the session instead of parsed and
-- planned for each batch of a reconnect storm.
CREATE OR REPLACE FUNCTION connecting_views(user_ids bigint[], cap int)
RETURNS TABLE (
  user_id bigint, unread_total int, partner_id bigint, last_active_at timestamptz
)
LANGUAGE plpgsql
STABLE
-- The tables are the ones of the schema the function was created in, whatever the caller's
-- search_path (each test file, and each DATABASE_SCHEMA, has its own).
SET search_path FROM CURRENT
-- As connecting_users: one plan per session, of key lookups only.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $fn$
-- The output columns share names with table columns: a bare name means the column.
#variable_conflict use_column
BEGIN
  RETURN QUERY
  SELECT caller.id, unread.total, partner.id, partner.last_active_at
  FROM unnest(user_ids) AS caller(id)
  -- Each side of every match of the user's, ended ones too, through its own index (a match is
  -- never on both sides: user_a < user_b).
  CROSS JOIN LATERAL (
    SELECT coalesce(sum(unread_in_match(side.id, side.last_read_seq, caller.id, cap)), 0)::int
    FROM (
      SELECT ma.id, ma.a_last_read_seq AS last_read_seq FROM matches ma WHERE ma.user_a = caller.id
      UNION ALL
      SELECT mb.id, mb.b_last_read_seq FROM matches mb WHERE mb.user_b = caller.id
    ) side
  ) AS unread(total)
  LEFT JOIN LATERAL (
    SELECT other.id,
      -- Looked up by key for each partner.
      (SELECT CASE WHEN usr.deleted_at IS NULL THEN usr.last_active_at END
       FROM users usr WHERE usr.id = other.id) AS last_active_at
    FROM (
      -- The status checked above the lookup by user, as in connecting_users.
      SELECT ma.user_b AS id, ma.status FROM matches ma WHERE ma.user_a = caller.id
      UNION ALL
      SELECT mb.user_a, mb.status FROM matches mb WHERE mb.user_b = caller.id
      OFFSET 0
    ) other
    WHERE other.status = 'active'
  ) partner ON true;
END
$fn$;
