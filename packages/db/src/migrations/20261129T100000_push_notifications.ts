import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code.
//
// Push notifications (docs/design.md §9): the devices a user registered, what they want to be
// told, and the outbox the sender works through.

export async function up(db: Kysely<any>): Promise<void> {
  // A Web Push subscription as the browser hands it over. The endpoint names one device's channel
  // at its push service, so it is unique across users: a device signed in to another account is
  // moved, never pushed to for both.
  await sql`
    CREATE TABLE push_subscriptions (
      id bigserial PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      endpoint text NOT NULL UNIQUE,
      p256dh text NOT NULL,
      auth text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
  await sql`CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id)`.execute(db);

  // One row per user who changed a default; no row reads as the defaults (every kind on, previews
  // off, no quiet hours). Quiet hours are local 'HH:MM' times in the IANA zone stored with them.
  await sql`
    CREATE TABLE notification_settings (
      user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      match_on boolean NOT NULL DEFAULT true,
      message_on boolean NOT NULL DEFAULT true,
      unlock_on boolean NOT NULL DEFAULT true,
      expiring_on boolean NOT NULL DEFAULT true,
      previews boolean NOT NULL DEFAULT false,
      quiet_start text,
      quiet_end text,
      time_zone text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((quiet_start IS NULL) = (quiet_end IS NULL)),
      CHECK (quiet_start IS NULL OR time_zone IS NOT NULL)
    )
  `.execute(db);

  // The outbox: written in the transaction of the event that causes it, sent by the workers.
  // event_key names the causing event (a match, a level, an expiry, a match's first unseen
  // message) and is unique for good, so an event is never enqueued twice. Sent rows stay (done_at)
  // until the sweeper prunes them, which keeps their keys taken meanwhile.
  // available_at: not before (backoff, quiet hours); claimed_until: a worker's lease, after which
  // a worker that died mid-send is presumed gone and the row is sent again (at least once).
  await sql`
    CREATE TABLE notification_outbox (
      id bigserial PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      match_id bigint NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('match', 'message', 'unlock', 'expiring')),
      event_key text NOT NULL UNIQUE,
      message_count int NOT NULL DEFAULT 0,
      last_seq bigint,
      level smallint,
      created_at timestamptz NOT NULL DEFAULT now(),
      available_at timestamptz NOT NULL DEFAULT now(),
      claimed_until timestamptz,
      attempts int NOT NULL DEFAULT 0,
      done_at timestamptz
    )
  `.execute(db);
  // What the workers claim from: pending rows, oldest due first.
  await sql`
    CREATE INDEX notification_outbox_due_idx ON notification_outbox (available_at)
    WHERE done_at IS NULL
  `.execute(db);
  // Messages collapse per (recipient, match): while a row is pending, later messages update it.
  await sql`
    CREATE UNIQUE INDEX notification_outbox_pending_message_key
    ON notification_outbox (user_id, match_id) WHERE kind = 'message' AND done_at IS NULL
  `.execute(db);

  // Set when the expiry warning was claimed (one pod, once); an extension clears it.
  await sql`ALTER TABLE matches ADD COLUMN expiry_warned_at timestamptz`.execute(db);

  // A message enqueues a push for its recipient in the statement that stores it, by a statement
  // trigger. The function as this migration defined it; the current one is
  // src/sql/enqueue_message_notifications.sql.
  await enqueueMessageNotifications.execute(db);
  await sql`
    CREATE TRIGGER messages_enqueue_notifications
    AFTER INSERT ON messages REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION enqueue_message_notifications()
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS messages_enqueue_notifications ON messages`.execute(db);
  await sql`DROP FUNCTION IF EXISTS enqueue_message_notifications()`.execute(db);
  await sql`ALTER TABLE matches DROP COLUMN IF EXISTS expiry_warned_at`.execute(db);
  await sql`DROP TABLE IF EXISTS notification_outbox`.execute(db);
  await sql`DROP TABLE IF EXISTS notification_settings`.execute(db);
  await sql`DROP TABLE IF EXISTS push_subscriptions`.execute(db);
}

/**
 * The text src/sql/enqueue_message_notifications.sql held when this migration ran it, kept here since
 * 20261129T120000_message_push_needs_a_device replaced it (its `down` restores this one).
 */
export const enqueueMessageNotifications = sql`-- enqueue_message_notifications: a message's push enqueued with it (docs/design.md §9.3).
--
-- This file is the CURRENT definition, run by migration 20261129T100000_push_notifications, which
-- pins its sha256: to change it, follow "Changing a SQL function" in packages/db/README.md.
--
-- The statement trigger messages_enqueue_notifications runs it once per statement that inserts
-- messages (append_messages stores a whole batch in one), with the statement's new rows as the
-- transition table new_messages. So the push is enqueued in the transaction that stores the
-- messages, one upsert per (recipient, match) of the batch whatever its size, and the message
-- writer does not change.
--
-- Messages collapse per recipient and match: while that pair has a pending row (the partial
-- unique index notification_outbox_pending_message_key), the batch adds its count and moves
-- last_seq on; otherwise a new row is keyed by the first message it covers, so one event is
-- never enqueued twice. Whether the recipient is online is not asked here: presence lives in
-- Redis, outside this transaction, and the sender reads it when the push would go out.
CREATE OR REPLACE FUNCTION enqueue_message_notifications() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $fn$
BEGIN
  INSERT INTO notification_outbox AS o
    (user_id, match_id, kind, event_key, message_count, last_seq)
  SELECT r.recipient, r.match_id, 'message',
    'message:' || r.match_id || ':' || r.recipient || ':' || r.first_seq, r.n, r.last_seq
  FROM (
    SELECT CASE WHEN n.sender_id = m.user_a THEN m.user_b ELSE m.user_a END AS recipient,
      n.match_id, count(*)::int AS n, min(n.seq) AS first_seq, max(n.seq) AS last_seq
    FROM new_messages n JOIN matches m ON m.id = n.match_id
    -- A message whose sender's account is gone has nobody to notify about.
    WHERE n.sender_id IS NOT NULL
    GROUP BY 1, 2
  ) r
  ON CONFLICT (user_id, match_id) WHERE kind = 'message' AND done_at IS NULL
  DO UPDATE SET message_count = o.message_count + excluded.message_count,
    last_seq = greatest(o.last_seq, excluded.last_seq);
  RETURN NULL;
END
$fn$;
`;
