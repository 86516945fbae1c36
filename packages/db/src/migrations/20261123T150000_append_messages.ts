import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code. A later change to the function
// is a new migration with CREATE OR REPLACE.

export async function up(db: Kysely<any>): Promise<void> {
  // The message writer's batch in ONE round trip (it was five: BEGIN, lock, find resends, insert,
  // COMMIT). A function rather than one plain statement because of snapshots: under READ
  // COMMITTED each statement in a function takes a new one, so the resend check after the lock
  // sees every message committed by whoever held the lock before. One statement would check
  // against a snapshot from before its wait, and a racing resend would hit the unique key.
  //
  // Per input row (keys unique within the batch; the caller folds repeats): 'not_found' (no such
  // match, or the sender is not in it), 'existing' (the client_id was stored: the original row),
  // 'not_active' (ended or expired, with the match's status), or 'new' (stored under the match's
  // next seq; secret while a secret chat is active). `SET search_path FROM CURRENT` pins the
  // tables to the schema the function was created in.
  await sql`
    CREATE FUNCTION append_messages(
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
        UPDATE matches SET message_count = c.last_seq
        FROM (
          SELECT n.match_id, max(n.new_seq) AS last_seq FROM numbered n
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
}
