import { sql, type Kysely } from 'kysely';
import type { Database, Message } from '../schema';
import { eitherSide } from './match-sides';

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

/** What became of a request to take a message back. */
export type UnsendOutcome =
  | { outcome: 'not_found' }
  | { outcome: 'not_sender' | 'window_closed' }
  | {
      /** `deleted`: erased now; `already_deleted`: it was before (a repeat, or a race). */
      outcome: 'deleted' | 'already_deleted';
      message: Message;
      partnerId: number;
    };

/**
 * Takes back the sender's message `seq` of a match within `windowSeconds` of its sending: its
 * body is erased (NULL, `deleted_at` set) in the row itself, which keeps its seq and counts
 * nothing down. Any match status: see docs/design.md §4.6. One statement decides, so two
 * concurrent requests erase once (the loser answers `already_deleted`). An expired secret message,
 * or one in a match the user is not part of, is `not_found`.
 */
export async function unsendMessage(
  db: Kysely<Database>,
  { matchId, seq, userId, windowSeconds }: UnsendRequest,
): Promise<UnsendOutcome> {
  const { rows } = await sql<
    Message & { partner_id: number; in_window: boolean; erased_at: Date | null }
  >`
    WITH target AS (
      SELECT msg.*, msg.created_at > now() - make_interval(secs => ${windowSeconds}) AS in_window,
             CASE WHEN ma.user_a = ${userId} THEN ma.user_b ELSE ma.user_a END AS partner_id
      FROM messages msg JOIN matches ma ON ma.id = msg.match_id
      WHERE msg.match_id = ${matchId} AND msg.seq = ${seq} AND ${eitherSide(userId, 'ma')}
        AND (msg.expires_at IS NULL OR msg.expires_at > now())
    ), erased AS (
      UPDATE messages SET body = NULL, deleted_at = now()
      FROM target t
      WHERE messages.id = t.id AND messages.deleted_at IS NULL
        AND t.sender_id = ${userId} AND t.in_window
      RETURNING messages.deleted_at
    )
    SELECT t.*, (SELECT deleted_at FROM erased) AS erased_at FROM target t`.execute(db);
  const row = rows[0];
  if (!row) return { outcome: 'not_found' };
  const { partner_id: partnerId, in_window: inWindow, erased_at: erasedAt, ...message } = row;
  if (message.sender_id !== userId) return { outcome: 'not_sender' };
  if (erasedAt) {
    return {
      outcome: 'deleted',
      message: { ...message, body: null, deleted_at: erasedAt },
      partnerId,
    };
  }
  // Not erased by this statement: erased before, or by a concurrent one (still in the window).
  if (message.deleted_at || inWindow) {
    return {
      outcome: 'already_deleted',
      message: { ...message, body: null, deleted_at: message.deleted_at ?? new Date() },
      partnerId,
    };
  }
  return { outcome: 'window_closed' };
}

export interface UnsendRequest {
  matchId: number;
  seq: number;
  userId: number;
  windowSeconds: number;
}

/**
 * Each match's last message (unexpired; a tombstone counts), for the match list: one index probe
 * per match. Matches without one are absent.
 */
export async function lastMessageOfMatches(
  db: Kysely<Database>,
  matchIds: number[],
): Promise<Map<number, Message>> {
  if (matchIds.length === 0) return new Map();
  const { rows } = await sql<Message>`
    SELECT m.* FROM unnest(${matchIds}::bigint[]) AS k(id)
    CROSS JOIN LATERAL (
      SELECT * FROM messages
      WHERE match_id = k.id AND (expires_at IS NULL OR expires_at > now())
      ORDER BY seq DESC
      LIMIT 1
    ) m`.execute(db);
  return new Map(rows.map((row) => [row.match_id, row]));
}
