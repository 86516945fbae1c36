import { sql, type Kysely } from 'kysely';
import { sqlFile } from '../sql/sql-file';
import { appendMessagesWithSideCounts } from './20261129T060000_per_side_message_counts';
import { enqueueMessageNotificationsForDevices } from './20261129T120000_message_push_needs_a_device';

// Frozen in time: raw SQL only, no imports from application code (the imports are the frozen
// functions this one replaces, which `down` restores, and the loader of src/sql).
//
// A stored message's push was enqueued by a statement trigger on messages (with a transition
// table). append_messages, the only writer of messages, now enqueues it itself, in a CTE of the
// statement that stores the batch (docs/design.md §9.3): the trigger's tuplestore, queued event
// and separate statement cost about a quarter of a batch of ten. The rows it enqueues are the
// same. append_messages is src/sql/append_messages.sql, pinned by its sha256.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER messages_enqueue_notifications ON messages`.execute(db);
  await sql`DROP FUNCTION enqueue_message_notifications()`.execute(db);
  await sqlFile(
    'append_messages.sql',
    '58a288de8633e06ba7f7161176c51c14c4549fcdaf236052c983b49636d4e6fe',
  ).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await appendMessagesWithSideCounts.execute(db);
  await enqueueMessageNotificationsForDevices.execute(db);
  await sql`
    CREATE TRIGGER messages_enqueue_notifications
    AFTER INSERT ON messages REFERENCING NEW TABLE AS new_messages
    FOR EACH STATEMENT EXECUTE FUNCTION enqueue_message_notifications()
  `.execute(db);
}
