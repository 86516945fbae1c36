import { sql, type Kysely } from 'kysely';
import type { Database, Match, Message } from '../schema';
import { eitherSide } from './match-sides';

/** A message with what its match's unlock level follows (whether contacts in it may show). */
export type SyncedMessage = Message & {
  match: Pick<Match, 'message_count' | 'a_message_count' | 'b_message_count' | 'status'>;
};

export interface SyncCursor {
  matchId: number;
  /** The last seq the client holds; messages after it are returned. */
  afterSeq: number;
}

/** One user's sync read: the messages after each cursor, at most `limit`. */
export interface SyncRead {
  userId: number;
  cursors: SyncCursor[];
  limit: number;
}

/**
 * For each read, the messages after its cursors, in (match_id, seq) order, at most its `limit`,
 * only in matches its `userId` belongs to (any status: a match may have ended while the client was
 * away). Many users' reads go in one query (a pod's clients sync at once after a reconnect storm),
 * each cursor checked against its own read's user, so no read sees another's matches. Each match
 * is read by the (match_id, seq) index through a lateral join, so the cost follows what is
 * returned. Expired secret messages are never returned. Each row carries its match's counts and
 * status, which decide whether contact details in it may be shown.
 */
export async function listMessagesAfter(
  db: Kysely<Database>,
  reads: SyncRead[],
): Promise<SyncedMessage[][]> {
  const pages = reads.map((): SyncedMessage[] => []);
  const cursors = reads.flatMap((read, index) => read.cursors.map((cursor) => ({ index, cursor })));
  if (cursors.length === 0) return pages;
  const column = <T>(pick: (c: (typeof cursors)[number]) => T) => cursors.map(pick);
  const { rows } = await sql<SyncedMessage & { request_no: number }>`
    SELECT s.request_no, (s.m).*, s.match FROM (
      SELECT k.request_no, m, json_build_object(
        'message_count', ma.message_count, 'a_message_count', ma.a_message_count,
        'b_message_count', ma.b_message_count, 'status', ma.status) AS match,
        row_number() OVER (PARTITION BY k.request_no ORDER BY m.match_id, m.seq) AS n, k.page_size
      FROM unnest(${column((c) => c.index)}::int[], ${column((c) => reads[c.index]!.userId)}::bigint[],
                  ${column((c) => c.cursor.matchId)}::bigint[], ${column((c) => c.cursor.afterSeq)}::bigint[],
                  ${column((c) => reads[c.index]!.limit)}::int[])
        AS k(request_no, user_id, match_id, after_seq, page_size)
      JOIN matches ma ON ma.id = k.match_id AND ${eitherSide(sql.ref<number>('k.user_id'), 'ma')}
      CROSS JOIN LATERAL (
        SELECT * FROM messages
        WHERE match_id = k.match_id AND seq > k.after_seq
          AND (expires_at IS NULL OR expires_at > now())
        ORDER BY seq
        LIMIT k.page_size
      ) m
    ) s
    WHERE s.n <= s.page_size
    ORDER BY s.request_no, (s.m).match_id, (s.m).seq`.execute(db);
  for (const { request_no, ...message } of rows) pages[request_no]!.push(message);
  return pages;
}
