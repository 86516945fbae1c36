import { sql, type Kysely } from 'kysely';
import * as previous from './20261123T150000_append_messages';

// Frozen in time: raw SQL only, no imports from application code (the one import is the frozen
// migration this one replaces, whose function `down` restores).

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

  // append_messages as before, now also moving each side's count with its new messages.
  await sql`
    CREATE OR REPLACE FUNCTION append_messages(
      match_ids bigint[], sender_ids bigint[], client_ids text[], bodies text[],
      secret_ttl_ms bigint
    )
    RETURNS TABLE (
      ord bigint, outcome text, match_status text,
      id bigint, match_id bigint, seq bigint, sender_id bigint, client_id text, body text,
      is_secret boolean, created_at timestamptz, expires_at timestamptz
    )
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
    SET plan_cache_mode = force_generic_plan
    AS $fn$
    #variable_conflict use_column
    DECLARE
      message_ids regclass := pg_get_serial_sequence('messages', 'id')::regclass;
    BEGIN
      -- In id order, so concurrent batches here or on other pods never deadlock.
      PERFORM 1 FROM matches WHERE matches.id = ANY (match_ids) ORDER BY matches.id FOR UPDATE;

      -- Lookups are LATERAL ... LIMIT 1 so each stays an index probe whatever the planner thinks
      -- of a small table, and new rows get their id here (nextval) so the answer needs no join
      -- back to the inserted rows: the cost stays linear in the batch.
      RETURN QUERY
      WITH decided AS (
        SELECT i.ord, i.match_id, i.sender_id, i.client_id, i.body,
          m.status AS match_status, m.message_count, m.secret_chat = 'active' AS secret,
          m.user_a,
          e.id AS existing_id,
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
        LEFT JOIN LATERAL (
          SELECT messages.id FROM messages
          WHERE messages.match_id = i.match_id AND messages.sender_id = i.sender_id
            AND messages.client_id = i.client_id
          LIMIT 1
        ) e ON true
      ),
      numbered AS (
        SELECT d.*,
          CASE WHEN d.outcome = 'new' THEN nextval(message_ids) END AS new_id,
          CASE WHEN d.outcome = 'new' THEN d.message_count + count(*)
            FILTER (WHERE d.outcome = 'new')
            OVER (PARTITION BY d.match_id ORDER BY d.ord ROWS UNBOUNDED PRECEDING) END AS new_seq,
          CASE WHEN d.secret THEN now() + make_interval(secs => secret_ttl_ms / 1000.0) END
            AS new_expires_at
        FROM decided d
      ),
      inserted AS (
        INSERT INTO messages
          (id, match_id, seq, sender_id, client_id, body, is_secret, created_at, expires_at)
        SELECT n.new_id, n.match_id, n.new_seq, n.sender_id, n.client_id, n.body, n.secret,
          now(), n.new_expires_at
        FROM numbered n
        WHERE n.outcome = 'new'
      ),
      counts AS (
        UPDATE matches SET message_count = c.last_seq,
          a_message_count = matches.a_message_count + c.from_a,
          b_message_count = matches.b_message_count + c.from_b
        FROM (
          SELECT n.match_id, max(n.new_seq) AS last_seq,
            count(*) FILTER (WHERE n.sender_id = n.user_a) AS from_a,
            count(*) FILTER (WHERE n.sender_id <> n.user_a) AS from_b
          FROM numbered n
          WHERE n.outcome = 'new' GROUP BY n.match_id
        ) c
        WHERE matches.id = c.match_id
      )
      SELECT n.ord, n.outcome, n.match_status,
        CASE WHEN n.outcome = 'new' THEN n.new_id ELSE e.id END,
        CASE WHEN n.outcome = 'new' THEN n.match_id ELSE e.match_id END,
        CASE WHEN n.outcome = 'new' THEN n.new_seq ELSE e.seq END,
        CASE WHEN n.outcome = 'new' THEN n.sender_id ELSE e.sender_id END,
        CASE WHEN n.outcome = 'new' THEN n.client_id ELSE e.client_id END,
        CASE WHEN n.outcome = 'new' THEN n.body ELSE e.body END,
        CASE WHEN n.outcome = 'new' THEN n.secret ELSE e.is_secret END,
        CASE WHEN n.outcome = 'new' THEN now() ELSE e.created_at END,
        CASE WHEN n.outcome = 'new' THEN n.new_expires_at ELSE e.expires_at END
      FROM numbered n
      LEFT JOIN LATERAL (
        SELECT * FROM messages WHERE messages.id = n.existing_id LIMIT 1
      ) e ON true
      ORDER BY n.ord;
    END
    $fn$
  `.execute(db);
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
