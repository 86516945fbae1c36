-- unread_in_match: how many of a match's messages its reader has not read, counted up to `cap`
-- (docs/design.md §4.8): the partner's messages after `after_seq` (the reader's last read seq;
-- the reader's own never count), leaving out expired secret messages and messages taken back.
--
-- This file is the CURRENT definition. The migration that defines the function
-- (20261129T180000_unread_in_match) runs it and pins its sha256: to change the function, follow
-- "Changing a SQL function" in packages/db/README.md. packages/db/test/sql-files.test.ts checks
-- that the migrated database holds exactly what this file defines, and
-- packages/db/test/unread-plan.test.ts the rows it reads behind a long backlog.
--
-- Why a function: the count has to stop at `cap`, so that an unread backlog of any size costs at
-- most about `cap` rows. Written as a subquery under the caller's statement, with a LIMIT under
-- the count, PostgreSQL read it through a bitmap of every message after `after_seq` (a bitmap is
-- built whole before any row is returned, so the LIMIT cannot stop it), whether or not the table
-- had statistics, and the cost grew with the chat: at 6,400 messages a match, 1.2 ms per match
-- and about 380 ms a second for a pod counting 200 busy users (`npm run bench`). Here the walk is
-- the ordered scan of messages_match_seq_key, which stops after `cap` rows pass.
CREATE OR REPLACE FUNCTION unread_in_match(
  match_id bigint, after_seq bigint, reader_id bigint, cap int
)
RETURNS int
LANGUAGE plpgsql
STABLE
-- The tables are the ones of the schema the function was created in, whatever the caller's
-- search_path (each test file, and each DATABASE_SCHEMA, has its own).
SET search_path FROM CURRENT
-- One plan per session: the walk is the best plan whatever the values.
SET plan_cache_mode = force_generic_plan
-- Neither a bitmap (it reads every entry after after_seq first) nor a sequential scan (a plan
-- made while the table was small would stay for the session): only the index walk is left.
SET enable_bitmapscan = off
SET enable_seqscan = off
AS $fn$
BEGIN
  RETURN (
    SELECT count(*)::int FROM (
      SELECT 1 FROM messages msg
      WHERE msg.match_id = unread_in_match.match_id AND msg.seq > after_seq
        AND msg.sender_id IS DISTINCT FROM reader_id
        AND (msg.expires_at IS NULL OR msg.expires_at > now())
        AND msg.deleted_at IS NULL
      LIMIT cap
    ) capped
  );
END
$fn$;
