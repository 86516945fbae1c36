import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema';

/**
 * Premium until `until` (granted) or not at all (`null`: revoked) for a live account. False when
 * there is no such account (none, or deleted).
 */
export async function setPremiumUntil(
  db: Kysely<Database> | Transaction<Database>,
  userId: number,
  until: Date | null,
): Promise<boolean> {
  const row = await db
    .updateTable('users')
    .set({ is_premium: until !== null, premium_until: until, updated_at: sql`now()` })
    .where('id', '=', userId)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Records a webhook event as applied; false when its id was recorded before (a replay). */
export async function recordEntitlementEvent(
  trx: Transaction<Database>,
  event: { eventId: string; userId: number; until: Date | null },
): Promise<boolean> {
  const row = await trx
    .insertInto('entitlement_events')
    .values({ event_id: event.eventId, user_id: event.userId, premium_until: event.until })
    .onConflict((oc) => oc.column('event_id').doNothing())
    .returning('event_id')
    .executeTakeFirst();
  return row !== undefined;
}
