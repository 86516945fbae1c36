import { sql, type Expression, type Kysely } from 'kysely';
import type { Database, MatchStatus } from '../schema';
import { eitherSide } from './match-sides';

/** The two receipt watermarks each side of a match keeps. */
export type ReceiptKind = 'read' | 'delivered';

const RECEIPT_COLUMNS = {
  read: { a: 'a_last_read_seq', b: 'b_last_read_seq' },
  delivered: { a: 'a_last_delivered_seq', b: 'b_last_delivered_seq' },
} as const;

/**
 * Moves the user's watermark of a match (`read`: last read seq, `delivered`: last delivered seq)
 * forward to `seq`, never backwards and never beyond the match's message_count. Returns the stored
 * value, the partner and the match's status, or undefined when the user is not part of the match.
 * `advanced` says whether anything changed.
 */
export async function advanceReceipt(
  db: Kysely<Database>,
  kind: ReceiptKind,
  { matchId, userId, seq }: { matchId: number; userId: number; seq: number },
): Promise<
  { lastSeq: number; partnerId: number; advanced: boolean; matchStatus: MatchStatus } | undefined
> {
  const a = sql.ref(`m.${RECEIPT_COLUMNS[kind].a}`);
  const b = sql.ref(`m.${RECEIPT_COLUMNS[kind].b}`);
  const { rows } = await sql<{
    last_seq: number;
    partner_id: number;
    advanced: boolean;
    status: MatchStatus;
  }>`
    WITH target AS (
      SELECT m.id, m.user_a, m.user_b, m.message_count, m.status,
             CASE WHEN m.user_a = ${userId} THEN ${a} ELSE ${b} END AS current
      FROM matches m
      WHERE m.id = ${matchId} AND ${eitherSide(userId, 'm')}
    ), updated AS (
      UPDATE matches m SET
        ${sql.ref(RECEIPT_COLUMNS[kind].a)} = CASE WHEN m.user_a = ${userId}
          THEN GREATEST(${a}, LEAST(${seq}::bigint, m.message_count)) ELSE ${a} END,
        ${sql.ref(RECEIPT_COLUMNS[kind].b)} = CASE WHEN m.user_b = ${userId}
          THEN GREATEST(${b}, LEAST(${seq}::bigint, m.message_count)) ELSE ${b} END
      FROM target t
      WHERE m.id = t.id AND LEAST(${seq}::bigint, t.message_count) > t.current
      RETURNING CASE WHEN m.user_a = ${userId} THEN ${a} ELSE ${b} END AS last_seq
    )
    SELECT COALESCE((SELECT last_seq FROM updated), t.current) AS last_seq,
           CASE WHEN t.user_a = ${userId} THEN t.user_b ELSE t.user_a END AS partner_id,
           EXISTS (SELECT 1 FROM updated) AS advanced, t.status
    FROM target t`.execute(db);
  const row = rows[0];
  return (
    row && {
      lastSeq: row.last_seq,
      partnerId: row.partner_id,
      advanced: row.advanced,
      matchStatus: row.status,
    }
  );
}

/**
 * Per match: the partner's messages after the user's last read seq (the user's own never count as
 * unread), expired secret messages and messages taken back left out, counted up to `cap` (a
 * backlog of any size costs at most `cap` rows). Matches with none are absent from the map.
 */
export async function countUnreadMessages(
  db: Kysely<Database>,
  userId: number,
  matchIds: number[],
  cap: number,
): Promise<Map<number, number>> {
  if (matchIds.length === 0) return new Map();
  const { rows } = await sql<{ match_id: number; unread: number }>`
    SELECT ma.id AS match_id, unread.n AS unread
    FROM matches ma
    CROSS JOIN LATERAL ${cappedUnread(userId, 'ma', cap)} AS unread(n)
    WHERE ma.id = ANY(${matchIds}::bigint[]) AND ${eitherSide(userId, 'ma')}
      AND unread.n > 0`.execute(db);
  return new Map(rows.map((row) => [row.match_id, row.unread]));
}

/**
 * For `user` in the match `ma`, the partner's unread messages up to `cap` (`unread_in_match`,
 * src/sql/unread_in_match.sql), as a FROM item to join laterally: a walk of the (match_id, seq)
 * index that stops at the cap, so a backlog of any size costs at most about `cap` rows. (A scalar
 * subquery would be pulled up into the caller and called again for each use of its value.)
 */
function cappedUnread(user: number | Expression<unknown>, ma: string, cap: number) {
  const match = (name: string) => sql.ref(`${ma}.${name}`);
  return sql`unread_in_match(${match('id')},
      CASE WHEN ${match('user_a')} = ${user}
        THEN ${match('a_last_read_seq')} ELSE ${match('b_last_read_seq')} END,
      ${user}, ${cap})`;
}

/**
 * Each user's unread messages over all their matches (the sum of `countUnreadMessages`, each
 * match's count stopping at `cap`), in one query for many users: what `unread:total` carries. The
 * users are `userIds` and the recipient of each of `messagesFrom` (the match's other side from the
 * sender). Users with none answer 0.
 */
export async function countUnreadTotals(
  db: Kysely<Database>,
  {
    userIds,
    messagesFrom = [],
    cap,
  }: {
    userIds: number[];
    messagesFrom?: { matchId: number; senderId: number }[];
    cap: number;
  },
): Promise<Map<number, number>> {
  if (userIds.length === 0 && messagesFrom.length === 0) return new Map();
  const { rows } = await sql<{ user_id: number; total: number }>`
    WITH users AS (
      SELECT id FROM unnest(${userIds}::bigint[]) AS given(id)
      UNION
      SELECT CASE WHEN ma.user_a = f.sender_id THEN ma.user_b ELSE ma.user_a END
      FROM unnest(${messagesFrom.map((m) => m.matchId)}::bigint[],
                  ${messagesFrom.map((m) => m.senderId)}::bigint[]) AS f(match_id, sender_id)
      JOIN matches ma ON ma.id = f.match_id
    )
    SELECT u.id AS user_id, (
      -- src/sql/connecting_views.sql counts the same total for connecting users: change both.
      SELECT coalesce(sum(unread.n), 0)::int
      FROM matches ma
      CROSS JOIN LATERAL ${cappedUnread(sql.ref('u.id'), 'ma', cap)} AS unread(n)
      WHERE ${eitherSide(sql.ref('u.id'), 'ma')}
    ) AS total
    FROM users u`.execute(db);
  return new Map(rows.map((row) => [Number(row.user_id), row.total]));
}
