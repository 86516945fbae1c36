import { sql, type Kysely } from 'kysely';
import type { Database, NotificationKind, OutboxRow } from '../schema';

export interface PushKeys {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/**
 * Registers a device for the user. The endpoint is one device's channel: registering it again
 * refreshes its keys, and a device now signed in to another account moves to that account.
 */
export function savePushSubscription(db: Kysely<Database>, userId: number, keys: PushKeys) {
  return db
    .insertInto('push_subscriptions')
    .values({ user_id: userId, ...keys })
    .onConflict((oc) =>
      oc.column('endpoint').doUpdateSet({ user_id: userId, p256dh: keys.p256dh, auth: keys.auth }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Removes the user's device with this endpoint; false when they had none. */
export async function deletePushSubscription(
  db: Kysely<Database>,
  userId: number,
  endpoint: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('push_subscriptions')
    .where('user_id', '=', userId)
    .where('endpoint', '=', endpoint)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The push service answered that this channel is gone (404/410): nobody is pushed to it again. */
export async function forgetPushEndpoint(db: Kysely<Database>, endpoint: string): Promise<void> {
  await db.deleteFrom('push_subscriptions').where('endpoint', '=', endpoint).execute();
}

export function listPushSubscriptions(db: Kysely<Database>, userId: number) {
  return db
    .selectFrom('push_subscriptions')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
}

export function findNotificationSettings(db: Kysely<Database>, userId: number) {
  return db
    .selectFrom('notification_settings')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** Every setting at once: a PUT replaces them all. */
export interface SettingsChange {
  match_on: boolean;
  message_on: boolean;
  unlock_on: boolean;
  expiring_on: boolean;
  previews: boolean;
  quiet_start: string | null;
  quiet_end: string | null;
  time_zone: string | null;
}

export function saveNotificationSettings(
  db: Kysely<Database>,
  userId: number,
  change: SettingsChange,
) {
  const values = { ...change, updated_at: sql<Date>`now()` };
  return db
    .insertInto('notification_settings')
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface OutboxEntry {
  user_id: number;
  match_id: number;
  kind: NotificationKind;
  event_key: string;
  level?: number;
}

/**
 * Enqueues pushes, in the caller's transaction. An event already enqueued (its key is taken) is
 * left as it is: the same event is never enqueued twice.
 */
export async function enqueueNotifications(
  db: Kysely<Database>,
  entries: OutboxEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await db
    .insertInto('notification_outbox')
    .values(entries)
    .onConflict((oc) => oc.column('event_key').doNothing())
    .execute();
}

/**
 * Claims up to `limit` due rows for `leaseMs`, in one statement (its own short transaction). Rows
 * another worker is claiming right now are skipped (SKIP LOCKED), and a row stays claimed until its
 * lease runs out, so two workers never send the same row at once; a worker that dies mid-send
 * leaves its rows to be claimed again when the lease ends.
 */
export async function claimDueNotifications(
  db: Kysely<Database>,
  { limit, leaseMs }: { limit: number; leaseMs: number },
): Promise<OutboxRow[]> {
  const { rows } = await sql<OutboxRow>`
    UPDATE notification_outbox
    SET claimed_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = attempts + 1
    WHERE id IN (
      SELECT id FROM notification_outbox
      WHERE done_at IS NULL AND available_at <= now()
        AND (claimed_until IS NULL OR claimed_until <= now())
      ORDER BY available_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    RETURNING *`.execute(db);
  return rows;
}

/**
 * The row is handled (sent or dropped on purpose). A message row that collapsed further messages
 * meanwhile (`last_seq` moved on) is not done: it is released to go out again with the new count,
 * under the same Topic, so the device shows the latest.
 */
export async function finishNotification(
  db: Kysely<Database>,
  row: Pick<OutboxRow, 'id' | 'last_seq'>,
): Promise<void> {
  await sql`
    UPDATE notification_outbox SET
      done_at = CASE WHEN last_seq IS NOT DISTINCT FROM ${row.last_seq} THEN now() END,
      claimed_until = NULL, attempts = CASE WHEN last_seq IS NOT DISTINCT FROM ${row.last_seq}
        THEN attempts ELSE 0 END
    WHERE id = ${row.id}`.execute(db);
}

/** Not now: back in the queue at `until` (a retry's backoff, the end of quiet hours). */
export async function deferNotification(
  db: Kysely<Database>,
  id: number,
  until: Date,
  { countAttempt }: { countAttempt: boolean },
): Promise<void> {
  await db
    .updateTable('notification_outbox')
    .set({
      available_at: until,
      claimed_until: null,
      ...(!countAttempt && { attempts: sql<number>`attempts - 1` }),
    })
    .where('id', '=', id)
    .execute();
}

/** Seconds the oldest due, unsent row has waited; 0 when none is due. */
export async function oldestPendingAgeSeconds(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ age: number | null }>`
    SELECT extract(epoch FROM now() - min(available_at))::float8 AS age
    FROM notification_outbox WHERE done_at IS NULL AND available_at <= now()`.execute(db);
  return Math.max(0, rows[0]?.age ?? 0);
}

/**
 * Claims the expiry warnings now due: active matches expiring within `leadMs` whose warning was not
 * claimed yet (an extension clears the mark). One statement marks them and enqueues a push for each
 * side, so each warning is claimed once by one pod, and the push goes with it or not at all.
 */
export async function claimExpiryWarnings(
  db: Kysely<Database>,
  { leadMs, limit }: { leadMs: number; limit: number },
) {
  const { rows } = await sql<{ id: number; user_a: number; user_b: number; expires_at: Date }>`
    WITH warned AS (
      UPDATE matches SET expiry_warned_at = now()
      WHERE id IN (
        SELECT id FROM matches
        WHERE status = 'active' AND expiry_warned_at IS NULL AND expires_at > now()
          AND expires_at <= now() + make_interval(secs => ${leadMs / 1000})
        ORDER BY expires_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ) AND expiry_warned_at IS NULL
      RETURNING id, user_a, user_b, expires_at
    ),
    enqueued AS (
      INSERT INTO notification_outbox (user_id, match_id, kind, event_key)
      SELECT side.user_id, w.id, 'expiring',
        'expiring:' || w.id || ':' || side.user_id || ':' || floor(extract(epoch FROM w.expires_at))
      FROM warned w CROSS JOIN LATERAL (VALUES (w.user_a), (w.user_b)) AS side (user_id)
      ON CONFLICT (event_key) DO NOTHING
    )
    SELECT * FROM warned`.execute(db);
  return rows;
}

/**
 * Deletes up to `limit` rows sent, or enqueued, more than `olderThanMs` ago (a push that old is
 * about a match long over; while push is off none is sent and the queue must not grow for ever).
 */
export async function pruneSentNotifications(
  db: Kysely<Database>,
  { olderThanMs, limit }: { olderThanMs: number; limit: number },
): Promise<number> {
  const result = await sql`
    DELETE FROM notification_outbox WHERE id IN (
      SELECT id FROM notification_outbox
      WHERE created_at < now() - make_interval(secs => ${olderThanMs / 1000})
      LIMIT ${limit}
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** The newest message `senderId` wrote in the match that has not expired (a secret one may have). */
export function latestMessageFrom(db: Kysely<Database>, matchId: number, senderId: number) {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('match_id', '=', matchId)
    .where('sender_id', '=', senderId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
}
