import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Database } from '../schema';
import { eitherSide } from './match-sides';

/** Active and not yet past its expiry, whether or not the sweeper has been by. */
const live = (eb: ExpressionBuilder<Database, 'matches'>) =>
  eb.and([eb('status', '=', 'active'), eb('expires_at', '>', sql<Date>`now()`)]);

/**
 * Adds `extendMs` to a live match of the user's, in one conditional UPDATE: a free user only while
 * the match was never extended, so two concurrent free extensions can never both succeed.
 * Undefined when nothing changed; the caller finds out why.
 */
export function extendMatch(
  db: Kysely<Database>,
  change: { matchId: number; userId: number; extendMs: number; unlimited: boolean },
) {
  return db
    .updateTable('matches')
    .set({
      expires_at: sql`expires_at + make_interval(secs => ${change.extendMs / 1000})`,
      extended_count: sql`extended_count + 1`,
      // The warning was for the old expiry: the new one gets its own, in time.
      expiry_warned_at: null,
    })
    .where('id', '=', change.matchId)
    .where(eitherSide(change.userId))
    .where(live)
    .$if(!change.unlimited, (qb) => qb.where('extended_count', '=', 0))
    .returningAll()
    .executeTakeFirst();
}

/**
 * Ends the user's active match `matchId` (unmatch) for both at once; undefined if it was not
 * active. Ending an expired-but-unswept match is allowed: it is over either way.
 */
export function endMatch(
  db: Kysely<Database>,
  end: { matchId: number; userId: number; status: 'unmatched' | 'blocked' },
) {
  return db
    .updateTable('matches')
    .set({ status: end.status, ended_at: sql`now()`, ended_by: end.userId })
    .where('id', '=', end.matchId)
    .where(eitherSide(end.userId))
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
}

/** Ends the active match between two users, if there is one (a block). */
export function endMatchBetween(
  db: Kysely<Database>,
  end: { userId: number; otherId: number; status: 'blocked' },
) {
  const [a, b] = end.userId < end.otherId ? [end.userId, end.otherId] : [end.otherId, end.userId];
  return db
    .updateTable('matches')
    .set({ status: end.status, ended_at: sql`now()`, ended_by: end.userId })
    .where('user_a', '=', a)
    .where('user_b', '=', b)
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
}

/**
 * Marks up to `limit` active matches past their expiry as expired and returns them. Rows another
 * sweeper (on another pod) holds are skipped, and the status condition makes a second pass a
 * no-op, so any number of pods may sweep at once and each match is reported by exactly one.
 */
export async function expireDueMatches(db: Kysely<Database>, limit: number) {
  const { rows } = await sql<{ id: number; user_a: number; user_b: number }>`
    UPDATE matches SET status = 'expired', ended_at = expires_at
    WHERE id IN (
      SELECT id FROM matches
      WHERE status = 'active' AND expires_at <= now()
      ORDER BY expires_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ) AND status = 'active'
    RETURNING id, user_a, user_b`.execute(db);
  return rows;
}

/** Deletes up to `limit` secret messages past their expiry; returns how many. */
export async function purgeExpiredMessages(db: Kysely<Database>, limit: number): Promise<number> {
  const result = await sql`
    DELETE FROM messages
    WHERE id IN (
      SELECT id FROM messages
      WHERE expires_at <= now()
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

/** Asks for a secret chat in a live match that has none. */
export function requestSecretChat(db: Kysely<Database>, matchId: number, userId: number) {
  return db
    .updateTable('matches')
    .set({ secret_chat: 'requested', secret_requested_by: userId })
    .where('id', '=', matchId)
    .where(eitherSide(userId))
    .where(live)
    .where('secret_chat', '=', 'none')
    .returningAll()
    .executeTakeFirst();
}

/** Turns a pending secret chat on; only the side that did not ask may. */
export function acceptSecretChat(db: Kysely<Database>, matchId: number, userId: number) {
  return db
    .updateTable('matches')
    .set({ secret_chat: 'active' })
    .where('id', '=', matchId)
    .where(eitherSide(userId))
    .where(live)
    .where('secret_chat', '=', 'requested')
    .where('secret_requested_by', '!=', userId)
    .returningAll()
    .executeTakeFirst();
}

/** The counts behind `GET /api/mystery/stats/{user_id}`, in one round trip. */
export async function userMatchStats(db: Kysely<Database>, userId: number) {
  const { rows } = await sql<{
    total_matches: number;
    active_matches: number;
    messages_exchanged: number;
    matches_today: number;
  }>`
    SELECT
      (SELECT count(*) FROM matches WHERE ${eitherSide(userId)})::int
        AS total_matches,
      (SELECT count(*) FROM matches
        WHERE ${eitherSide(userId)}
          AND status = 'active' AND expires_at > now())::int AS active_matches,
      (SELECT coalesce(sum(message_count), 0) FROM matches
        WHERE ${eitherSide(userId)})::int AS messages_exchanged,
      coalesce((SELECT count FROM daily_match_counts
        WHERE user_id = ${userId} AND day = (now() AT TIME ZONE 'utc')::date), 0)::int
        AS matches_today`.execute(db);
  return rows[0]!;
}

/**
 * Records that the match announced `level`, if no send (on any pod) announced it or a higher one
 * before: the row comes back to exactly one caller per level, undefined to the others.
 */
export function markUnlockedLevel(db: Kysely<Database>, matchId: number, level: number) {
  return db
    .updateTable('matches')
    .set({ unlocked_level: level })
    .where('id', '=', matchId)
    .where('unlocked_level', '<', level)
    .returningAll()
    .executeTakeFirst();
}
