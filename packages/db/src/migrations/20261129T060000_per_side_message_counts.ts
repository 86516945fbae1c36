import { sql, type Kysely } from 'kysely';
import * as previous from './20261123T150000_append_messages';

// Frozen in time: raw SQL only, no imports from application code (the import is the frozen
// migration this one replaces, whose function `down` restores). The append_messages it ran is
// inline below; the current one is src/sql/append_messages.sql.

export async function up(db: Kysely<any>): Promise<void> {
  // An unlock level needs both people to take part (docs/design.md, progressive unlock): it opens
  // when the match's total reaches the level's threshold AND each side wrote at least a quarter of
  // it. So the match counts each side's messages: a_message_count (user_a's), b_message_count
  // (user_b's). They are never recomputed from messages later: account deletion nulls sender_id
  // and secret messages are purged, and neither may take back a level that opened.
  //
  // unlocked_level: the highest level the match has announced (`match:unlocked`). The level
  // itself is computed by the application from the counts; this column only lets exactly one
  // send, on any pod, announce each level, by a conditional UPDATE.
  await sql`
    ALTER TABLE matches
      ADD COLUMN a_message_count bigint NOT NULL DEFAULT 0,
      ADD COLUMN b_message_count bigint NOT NULL DEFAULT 0,
      ADD COLUMN unlocked_level smallint NOT NULL DEFAULT 0
  `.execute(db);
  await sql`
    UPDATE matches m SET
      a_message_count = c.from_a,
      b_message_count = c.from_b
    FROM (
      SELECT msg.match_id,
        count(*) FILTER (WHERE msg.sender_id = ma.user_a) AS from_a,
        count(*) FILTER (WHERE msg.sender_id = ma.user_b) AS from_b
      FROM messages msg JOIN matches ma ON ma.id = msg.match_id
      GROUP BY msg.match_id
    ) c
    WHERE m.id = c.match_id
  `.execute(db);
  // What existing matches have reached under the rule as it stands today (thresholds 20, 60, 100,
  // 150; each side a quarter, rounded up): levels reached already are not announced again.
  await sql`
    UPDATE matches SET unlocked_level = CASE
      WHEN message_count >= 150 AND least(a_message_count, b_message_count) >= 38 THEN 4
      WHEN message_count >= 100 AND least(a_message_count, b_message_count) >= 25 THEN 3
      WHEN message_count >= 60 AND least(a_message_count, b_message_count) >= 15 THEN 2
      WHEN message_count >= 20 AND least(a_message_count, b_message_count) >= 5 THEN 1
      ELSE 0 END
  `.execute(db);

  // append_messages as before, now also moving each side's count with its new messages, and
  // answering with each message the match as it stands right after it, so the send path needs no
  // second read for contact masking and the unlock announcement. The return type changes, so the
  // function is dropped first (CREATE OR REPLACE cannot do that).
  await sql`DROP FUNCTION append_messages(bigint[], bigint[], text[], text[], bigint)`.execute(db);
  await appendMessagesWithSideCounts.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS append_messages(bigint[], bigint[], text[], text[], bigint)`.execute(
    db,
  );
  await sql`
    ALTER TABLE matches
      DROP COLUMN IF EXISTS a_message_count,
      DROP COLUMN IF EXISTS b_message_count,
      DROP COLUMN IF EXISTS unlocked_level
  `.execute(db);
  await previous.up(db);
}

/** The append_messages.sql this migration ran, frozen here when a later migration changed the file. */
export const appendMessagesWithSideCounts = sql`-- append_messages: the message rules, where they run (docs/design.md §3.6 and §4.4).
--
-- This file is the CURRENT definition. The newest migration that (re)defines the function runs it
-- (today 20261129T060000_per_side_message_counts) and pins its sha256, so editing this file
-- alone makes that migration refuse to run. To change the function, follow "Changing a SQL
-- function" in packages/db/README.md: a new migration runs this file, and the one that ran it
-- before keeps, inline, the text it ran. packages/db/test/sql-files.test.ts checks that the
-- migrated database holds exactly what this file defines.
--
-- The message writer (packages/core/src/messages/message-writer.ts) stores a whole batch with
-- one call: one round trip, one transaction. It passes one array element per message, keys
-- (match, sender, client id) unique within the batch (it folds repeats itself), and maps each
-- outcome to an ack.
--
-- Why a function and not one plain statement: under READ COMMITTED each statement in a plpgsql
-- function takes a fresh snapshot. So the lookups below, run after the lock, see every message
-- committed by whoever held the lock before; one statement would check against a snapshot from
-- before its wait, and a resend racing on another pod would hit the unique key instead of
-- finding its original.
CREATE OR REPLACE FUNCTION append_messages(
  match_ids bigint[], sender_ids bigint[], client_ids text[], bodies text[],
  secret_ttl_ms bigint
)
-- One row per input message, in input order, whatever became of it.
RETURNS TABLE (
  -- Its position in the input arrays, from 1.
  ord bigint,
  -- 'not_found': no such match, or the sender is not one of its two people.
  -- 'existing': this sender stored this client_id in this match before (a resend).
  -- 'not_active': the match has ended or expired.
  -- 'new': stored now, under the match's next seq.
  outcome text,
  -- The match's status, null when there is no such match (the writer reads it for 'not_active').
  match_status text,
  -- The message: the one just stored ('new') or the original ('existing'); null otherwise.
  id bigint, match_id bigint, seq bigint, sender_id bigint, client_id text, body text,
  is_secret boolean, created_at timestamptz, expires_at timestamptz,
  -- For 'new' and 'existing': the match right after this message, so the send needs no second
  -- read (contact masking and the unlock announcement): its total and each side's count
  -- including the batch's new messages of the match up to this one (for a resend: up to where
  -- it stands in the batch).
  match_total bigint, match_a_count bigint, match_b_count bigint,
  -- The highest unlock level announced, as the batch found it (the application decides and
  -- announces levels; this function only counts).
  match_unlocked_level smallint,
  -- True on the match's last new message of the batch: its counts are the ones the match keeps.
  match_latest boolean
)
LANGUAGE plpgsql
-- The tables are the ones of the schema the function was created in, whatever the caller's
-- search_path (each test file, and each DATABASE_SCHEMA, has its own).
SET search_path FROM CURRENT
-- Plan once per session, not afresh for each call's arrays (planning every call showed in
-- \`npm run bench:append\`, docs/benchmarks.md).
SET plan_cache_mode = force_generic_plan
AS $fn$
-- The output columns share names with table columns (id, match_id, seq...): a bare name means
-- the column.
#variable_conflict use_column
DECLARE
  message_ids regclass := pg_get_serial_sequence('messages', 'id')::regclass;
BEGIN
  -- Lock the batch's matches, in id order so concurrent batches here or on other pods never
  -- deadlock. Every writer of a match queues here, which is what makes the seqs gapless and the
  -- counts exact.
  PERFORM 1 FROM matches WHERE matches.id = ANY (match_ids) ORDER BY matches.id FOR UPDATE;

  -- Lookups are LATERAL ... LIMIT 1 so each stays an index probe whatever the planner thinks
  -- of a small table, and new rows get their id here (nextval) so the answer needs no join
  -- back to the inserted rows: the cost stays linear in the batch.
  RETURN QUERY
  WITH decided AS (
    SELECT i.ord, i.match_id, i.sender_id, i.client_id, i.body,
      m.status AS match_status, m.message_count, m.a_message_count, m.b_message_count,
      m.unlocked_level, m.secret_chat = 'active' AS secret, m.user_a,
      e.id AS existing_id,
      -- The rules, in this order:
      -- 1. Membership first: who is not in the match learns nothing, not even whether a message
      --    with that client_id exists.
      -- 2. Idempotency before expiry: a resend gets its original back even after the match
      --    ended, so a client retrying an unacked send is answered the same as the first time.
      -- 3. Expiry: a match past expires_at takes no message, even before the sweeper has marked
      --    it expired (docs/design.md §3.3).
      CASE
        WHEN m.id IS NULL OR i.sender_id NOT IN (m.user_a, m.user_b) THEN 'not_found'
        WHEN e.id IS NOT NULL THEN 'existing'
        WHEN m.status <> 'active' OR m.expires_at <= now() THEN 'not_active'
        ELSE 'new'
      END AS outcome
    FROM unnest(match_ids, sender_ids, client_ids, bodies)
      WITH ORDINALITY AS i (match_id, sender_id, client_id, body, ord)
    LEFT JOIN LATERAL (
      SELECT * FROM matches WHERE matches.id = i.match_id LIMIT 1
    ) m ON true
    -- A resend: the same sender's same client_id in the same match (the unique key
    -- messages_client_id_key), stored by any pod at any time before.
    LEFT JOIN LATERAL (
      SELECT messages.id FROM messages
      WHERE messages.match_id = i.match_id AND messages.sender_id = i.sender_id
        AND messages.client_id = i.client_id
      LIMIT 1
    ) e ON true
  ),
  -- The match's counts after each row, in batch order; for a new message its total is its seq.
  -- Seqs are gapless: the stored count plus the new messages of the batch so far. Each side's
  -- count (user_a's, user_b's) moves with its own new messages: the unlock rule needs both sides
  -- to take part (docs/design.md §3.4). The counts are kept, never recomputed from messages:
  -- deleted accounts and purged secret messages must not take back a level that opened.
  counted AS (
    SELECT d.*,
      d.message_count + count(*) FILTER (WHERE d.outcome = 'new') OVER upto AS total_after,
      d.a_message_count + count(*) FILTER (WHERE d.outcome = 'new' AND d.sender_id = d.user_a)
        OVER upto AS a_after,
      d.b_message_count + count(*) FILTER (WHERE d.outcome = 'new' AND d.sender_id <> d.user_a)
        OVER upto AS b_after,
      d.message_count + count(*) FILTER (WHERE d.outcome = 'new')
        OVER (PARTITION BY d.match_id) AS total_at_end
    FROM decided d
    WINDOW upto AS (PARTITION BY d.match_id ORDER BY d.ord ROWS UNBOUNDED PRECEDING)
  ),
  -- A message sent while the match's secret chat is active is secret, and expires secret_ttl_ms
  -- after it is stored (docs/design.md §3.7).
  numbered AS (
    SELECT c.*,
      CASE WHEN c.outcome = 'new' THEN nextval(message_ids) END AS new_id,
      c.outcome = 'new' AND c.total_after = c.total_at_end AS latest,
      CASE WHEN c.secret THEN now() + make_interval(secs => secret_ttl_ms / 1000.0) END
        AS new_expires_at
    FROM counted c
  ),
  inserted AS (
    INSERT INTO messages
      (id, match_id, seq, sender_id, client_id, body, is_secret, created_at, expires_at)
    SELECT n.new_id, n.match_id, n.total_after, n.sender_id, n.client_id, n.body, n.secret,
      now(), n.new_expires_at
    FROM numbered n
    WHERE n.outcome = 'new'
  ),
  -- The match keeps the counts of its last new message of the batch.
  counts AS (
    UPDATE matches SET message_count = n.total_after,
      a_message_count = n.a_after, b_message_count = n.b_after
    FROM numbered n
    WHERE n.latest AND matches.id = n.match_id
  )
  SELECT n.ord, n.outcome, n.match_status,
    CASE WHEN n.outcome = 'new' THEN n.new_id ELSE e.id END,
    CASE WHEN n.outcome = 'new' THEN n.match_id ELSE e.match_id END,
    CASE WHEN n.outcome = 'new' THEN n.total_after ELSE e.seq END,
    CASE WHEN n.outcome = 'new' THEN n.sender_id ELSE e.sender_id END,
    CASE WHEN n.outcome = 'new' THEN n.client_id ELSE e.client_id END,
    CASE WHEN n.outcome = 'new' THEN n.body ELSE e.body END,
    CASE WHEN n.outcome = 'new' THEN n.secret ELSE e.is_secret END,
    CASE WHEN n.outcome = 'new' THEN now() ELSE e.created_at END,
    CASE WHEN n.outcome = 'new' THEN n.new_expires_at ELSE e.expires_at END,
    n.total_after, n.a_after, n.b_after, n.unlocked_level, n.latest
  FROM numbered n
  -- The original of a resend, read whole by its id.
  LEFT JOIN LATERAL (
    SELECT * FROM messages WHERE messages.id = n.existing_id LIMIT 1
  ) e ON true
  ORDER BY n.ord;
END
$fn$;
`;
