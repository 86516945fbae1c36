import { sql, type Kysely } from 'kysely';
import { enqueueMessageNotifications } from './20261129T100000_push_notifications';

// Frozen in time: raw SQL only, no imports from application code (the import is the frozen
// function this one replaces, which `down` restores).
//
// The message trigger enqueued a push row for every recipient of every batch, with or without a
// device to push to; with push off (no VAPID keys) nobody has one, and the rows and their dead
// tuples only piled up until the sweeper pruned them. It now enqueues only for a recipient with
// a push subscription (docs/design.md §9.3): the function inline below. The trigger itself is
// unchanged: it runs the function by name. (Migration 20261129T140000 later folded the enqueue
// into append_messages and dropped both.)

export async function up(db: Kysely<any>): Promise<void> {
  await enqueueMessageNotificationsForDevices.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await enqueueMessageNotifications.execute(db);
}

/** The enqueue_message_notifications.sql this migration ran, frozen here when a later migration changed the file. */
export const enqueueMessageNotificationsForDevices = sql`-- enqueue_message_notifications: a message's push enqueued with it (docs/design.md §9.3).
--
-- This file is the CURRENT definition, run by migration 20261129T120000_message_push_needs_a_device,
-- which pins its sha256: to change it, follow "Changing a SQL function" in packages/db/README.md.
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
--
-- Only a recipient with a registered device (a push_subscriptions row) gets a row: a push with
-- no device to go to is never sent, and most recipients have none (while push is off, nobody
-- does), so the row would only cost this statement an upsert and the table a dead tuple for
-- every batch. A device registered later is pushed to from the next message on.
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
  WHERE EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = r.recipient)
  ON CONFLICT (user_id, match_id) WHERE kind = 'message' AND done_at IS NULL
  DO UPDATE SET message_count = o.message_count + excluded.message_count,
    last_seq = greatest(o.last_seq, excluded.last_seq);
  RETURN NULL;
END
$fn$;
`;
