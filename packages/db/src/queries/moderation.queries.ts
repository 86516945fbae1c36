import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema';

/** Records the block once; blocking again changes nothing. */
export async function insertBlock(
  db: Kysely<Database>,
  blockerId: number,
  blockedId: number,
): Promise<void> {
  await db
    .insertInto('blocks')
    .values({ blocker_id: blockerId, blocked_id: blockedId })
    .onConflict((oc) => oc.columns(['blocker_id', 'blocked_id']).doNothing())
    .execute();
}

/** Lifts the block; true when there was one. */
export async function deleteBlock(
  db: Kysely<Database>,
  blockerId: number,
  blockedId: number,
): Promise<boolean> {
  const result = await db
    .deleteFrom('blocks')
    .where('blocker_id', '=', blockerId)
    .where('blocked_id', '=', blockedId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The match's last `limit` messages (unexpired), oldest first: a report's evidence. */
export async function lastMessages(db: Kysely<Database>, matchId: number, limit: number) {
  const rows = await db
    .selectFrom('messages')
    .select(['id', 'seq', 'sender_id', 'body', 'is_secret', 'created_at'])
    .where('match_id', '=', matchId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}

export function findMessageInMatch(db: Kysely<Database>, matchId: number, messageId: number) {
  return db
    .selectFrom('messages')
    .select('id')
    .where('id', '=', messageId)
    .where('match_id', '=', matchId)
    .executeTakeFirst();
}
