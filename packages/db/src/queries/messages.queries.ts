import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema';

/**
 * One page of history, newest first, below `before` (exclusive). Reads by the (match_id, seq)
 * index, so a page costs the same at any depth. Expired secret messages are never returned.
 */
export function listMessagesBefore(
  db: Kysely<Database>,
  page: { matchId: number; before?: number; limit: number },
) {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('match_id', '=', page.matchId)
    .$if(page.before !== undefined, (qb) => qb.where('seq', '<', page.before!))
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
    .orderBy('seq', 'desc')
    .limit(page.limit)
    .execute();
}
