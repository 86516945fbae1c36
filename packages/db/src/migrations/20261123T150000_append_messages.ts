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
    AS $fn$
    #variable_conflict use_column
    BEGIN
      -- In id order, so concurrent batches here or on other pods never deadlock.
      PERFORM 1 FROM matches WHERE matches.id = ANY (match_ids) ORDER BY matches.id FOR UPDATE;

      RETURN QUERY
      WITH input AS (
        SELECT i.ord, i.match_id, i.sender_id, i.client_id, i.body
        FROM unnest(match_ids, sender_ids, client_ids, bodies)
          WITH ORDINALITY AS i (match_id, sender_id, client_id, body, ord)
      ),
      decided AS (
        SELECT i.*, m.status AS match_status, m.message_count, m.secret_chat = 'active' AS secret,
          e.id AS existing_id,
          CASE
            WHEN m.id IS NULL OR i.sender_id NOT IN (m.user_a, m.user_b) THEN 'not_found'
            WHEN e.id IS NOT NULL THEN 'existing'
            WHEN m.status <> 'active' OR m.expires_at <= now() THEN 'not_active'
            ELSE 'new'
          END AS outcome
        FROM input i
        LEFT JOIN matches m ON m.id = i.match_id
        LEFT JOIN messages e
          ON e.match_id = i.match_id AND e.sender_id = i.sender_id AND e.client_id = i.client_id
      ),
      numbered AS (
        SELECT d.*,
          d.message_count + row_number() OVER (PARTITION BY d.match_id ORDER BY d.ord) AS new_seq
        FROM decided d
        WHERE d.outcome = 'new'
      ),
      inserted AS (
        INSERT INTO messages (match_id, seq, sender_id, client_id, body, is_secret, expires_at)
        SELECT n.match_id, n.new_seq, n.sender_id, n.client_id, n.body, n.secret,
          CASE WHEN n.secret THEN now() + make_interval(secs => secret_ttl_ms / 1000.0) END
        FROM numbered n
        RETURNING *
      ),
      counts AS (
        UPDATE matches SET message_count = c.last_seq
        FROM (SELECT n.match_id, max(n.new_seq) AS last_seq FROM numbered n GROUP BY n.match_id) c
        WHERE matches.id = c.match_id
      )
      SELECT d.ord, d.outcome, d.match_status,
        coalesce(ins.id, e.id), coalesce(ins.match_id, e.match_id), coalesce(ins.seq, e.seq),
        coalesce(ins.sender_id, e.sender_id), coalesce(ins.client_id, e.client_id),
        coalesce(ins.body, e.body), coalesce(ins.is_secret, e.is_secret),
        coalesce(ins.created_at, e.created_at), coalesce(ins.expires_at, e.expires_at)
      FROM decided d
      LEFT JOIN numbered n ON n.ord = d.ord
      LEFT JOIN inserted ins ON ins.match_id = n.match_id AND ins.seq = n.new_seq
      LEFT JOIN messages e ON e.id = d.existing_id
      ORDER BY d.ord;
    END
    $fn$
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS append_messages(bigint[], bigint[], text[], text[], bigint)`.execute(
    db,
  );
}
