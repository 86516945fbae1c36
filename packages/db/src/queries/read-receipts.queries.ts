import { sql, type Kysely } from 'kysely';
import type { Database, MatchStatus } from '../schema';

/**
 * Moves the user's last read seq of a match forward to `seq`, never backwards and never beyond the
 * match's message_count. Returns the stored value, the partner and the match's status, or undefined
 * when the user is not part of the match. `advanced` says whether anything changed.
 */
export async function advanceLastReadSeq(
  db: Kysely<Database>,
  { matchId, userId, seq }: { matchId: number; userId: number; seq: number },
): Promise<
  | { lastReadSeq: number; partnerId: number; advanced: boolean; matchStatus: MatchStatus }
  | undefined
> {
  const { rows } = await sql<{
    last_read_seq: number;
    partner_id: number;
    advanced: boolean;
    status: MatchStatus;
  }>`
    WITH target AS (
      SELECT id, user_a, user_b, message_count, status,
             CASE WHEN user_a = ${userId} THEN a_last_read_seq ELSE b_last_read_seq END AS current
      FROM matches
      WHERE id = ${matchId} AND (user_a = ${userId} OR user_b = ${userId})
    ), updated AS (
      UPDATE matches m SET
        a_last_read_seq = CASE WHEN m.user_a = ${userId}
          THEN GREATEST(m.a_last_read_seq, LEAST(${seq}::bigint, m.message_count))
          ELSE m.a_last_read_seq END,
        b_last_read_seq = CASE WHEN m.user_b = ${userId}
          THEN GREATEST(m.b_last_read_seq, LEAST(${seq}::bigint, m.message_count))
          ELSE m.b_last_read_seq END
      FROM target t
      WHERE m.id = t.id AND LEAST(${seq}::bigint, t.message_count) > t.current
      RETURNING CASE WHEN m.user_a = ${userId} THEN m.a_last_read_seq ELSE m.b_last_read_seq END
        AS last_read_seq
    )
    SELECT COALESCE((SELECT last_read_seq FROM updated), t.current) AS last_read_seq,
           CASE WHEN t.user_a = ${userId} THEN t.user_b ELSE t.user_a END AS partner_id,
           EXISTS (SELECT 1 FROM updated) AS advanced, t.status
    FROM target t`.execute(db);
  const row = rows[0];
  return (
    row && {
      lastReadSeq: row.last_read_seq,
      partnerId: row.partner_id,
      advanced: row.advanced,
      matchStatus: row.status,
    }
  );
}

/**
 * Per match: the partner's messages after the user's last read seq (the user's own never count as
 * unread), expired secret messages left out. Matches with none are absent from the map.
 */
export async function countUnreadMessages(
  db: Kysely<Database>,
  userId: number,
  matchIds: number[],
): Promise<Map<number, number>> {
  if (matchIds.length === 0) return new Map();
  const { rows } = await sql<{ match_id: number; unread: number }>`
    SELECT ma.id AS match_id, count(msg.id)::int AS unread
    FROM matches ma
    JOIN messages msg ON msg.match_id = ma.id
      AND msg.seq > CASE WHEN ma.user_a = ${userId} THEN ma.a_last_read_seq ELSE ma.b_last_read_seq END
      AND msg.sender_id IS DISTINCT FROM ${userId}
      AND (msg.expires_at IS NULL OR msg.expires_at > now())
    WHERE ma.id = ANY(${matchIds}::bigint[]) AND (ma.user_a = ${userId} OR ma.user_b = ${userId})
    GROUP BY ma.id`.execute(db);
  return new Map(rows.map((row) => [row.match_id, row.unread]));
}
