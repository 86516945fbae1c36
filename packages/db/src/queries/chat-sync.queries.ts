import { sql, type Kysely } from 'kysely';
import type { Database, Match, Message } from '../schema';

/** A message with what its match's unlock level follows (whether contacts in it may show). */
export type SyncedMessage = Message & {
  match: Pick<Match, 'message_count' | 'a_message_count' | 'b_message_count' | 'status'>;
};

export interface SyncCursor {
  matchId: number;
  /** The last seq the client holds; messages after it are returned. */
  afterSeq: number;
}

/**
 * The messages after each cursor, in (match_id, seq) order, at most `limit`, only in matches
 * `userId` belongs to (any status: a match may have ended while the client was away). Each match is
 * read by the (match_id, seq) index through a lateral join, so the cost follows what is returned.
 * Expired secret messages are never returned. Each row carries its match's counts and status,
 * which decide whether contact details in it may be shown.
 */
export async function listMessagesAfter(
  db: Kysely<Database>,
  userId: number,
  cursors: SyncCursor[],
  limit: number,
): Promise<SyncedMessage[]> {
  if (cursors.length === 0) return [];
  const { rows } = await sql<SyncedMessage>`
    SELECT m.*, json_build_object(
      'message_count', ma.message_count, 'a_message_count', ma.a_message_count,
      'b_message_count', ma.b_message_count, 'status', ma.status) AS match FROM unnest(${cursors.map((c) => c.matchId)}::bigint[],
                           ${cursors.map((c) => c.afterSeq)}::bigint[]) AS k(match_id, after_seq)
    JOIN matches ma ON ma.id = k.match_id AND (ma.user_a = ${userId} OR ma.user_b = ${userId})
    CROSS JOIN LATERAL (
      SELECT * FROM messages
      WHERE match_id = k.match_id AND seq > k.after_seq
        AND (expires_at IS NULL OR expires_at > now())
      ORDER BY seq
      LIMIT ${limit}
    ) m
    ORDER BY m.match_id, m.seq
    LIMIT ${limit}`.execute(db);
  return rows;
}
