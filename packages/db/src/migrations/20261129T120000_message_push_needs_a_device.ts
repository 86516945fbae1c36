import type { Kysely } from 'kysely';
import { sqlFile } from '../sql/sql-file';
import { enqueueMessageNotifications } from './20261129T100000_push_notifications';

// Frozen in time: raw SQL only, no imports from application code (the imports are the frozen
// function this one replaces, which `down` restores, and the loader of src/sql).
//
// The message trigger enqueued a push row for every recipient of every batch, with or without a
// device to push to; with push off (no VAPID keys) nobody has one, and the rows and their dead
// tuples only piled up until the sweeper pruned them. It now enqueues only for a recipient with
// a push subscription (docs/design.md §9.3): src/sql/enqueue_message_notifications.sql, pinned
// by its sha256. The trigger itself is unchanged: it runs the function by name.

export async function up(db: Kysely<any>): Promise<void> {
  await sqlFile(
    'enqueue_message_notifications.sql',
    '968bd43b07d154d1058ffd909dc4d36860875a1dd5230cde7cf2594711ecf6f6',
  ).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await enqueueMessageNotifications.execute(db);
}
