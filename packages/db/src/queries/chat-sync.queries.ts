import { sql, type Kysely } from 'kysely';
import type { Database, Message } from '../schema';

export type SyncedMessage = Message & { match_message_count: number };

export interface SyncCursor {
  matchId: number;
  /** The last seq the client holds; messages after it are returned. */
  afterSeq: number;
}

/**
 * The messages after each cursor, in (match_id, seq) order, at most `limit`, only in matches
 * `userId` belongs to (any status: a match may have ended while the client was away). Each match is
 * read by the (match_id, seq) index through a lateral join, so the cost follows what is returned.
 * Expired secret messages are never returned. Each row carries its match's message count, which
 * decides whether contact details in it may be shown.
 */
export async function listMessagesAfter(
  db: Kysely<Database>,
  userId: number,
  cursors: SyncCursor[],
  limit: number,
): Promise<SyncedMessage[]> {
  if (cursors.length === 0) return [];
  const { rows } = await sql<SyncedMessage>`
    SELECT m.*, ma.message_count AS match_message_count FROM unnest(${cursors.map((c) => c.matchId)}::bigint[],
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
