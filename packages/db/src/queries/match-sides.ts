import { sql, type Expression, type RawBuilder } from 'kysely';
import type { Match } from '../schema';

/**
 * A match has two sides, `user_a` and `user_b` (the smaller id first, see `orderedPair`). Whether
 * a user is one of them, and who is on the other side, are written here once: in SQL for the
 * queries and in TypeScript for the domain.
 */

/**
 * `(user_a = userId OR user_b = userId)` on the matches row named `table` (unqualified when
 * omitted): the user is a side of that match. Goes into kysely's `.where(...)` as it is and into a
 * raw `sql` template as `${eitherSide(userId, 'ma')}`. `userId` is a number or a column
 * (`sql.ref('caller.id')`).
 */
export function eitherSide(
  userId: number | Expression<number>,
  table?: string,
): RawBuilder<boolean> {
  const column = (side: 'user_a' | 'user_b') => sql.ref(table ? `${table}.${side}` : side);
  return sql<boolean>`(${column('user_a')} = ${userId} OR ${column('user_b')} = ${userId})`;
}

/**
 * The matches `userId` is a side of (only the active ones with `active`), as a subquery to join
 * laterally on a column (`sql.ref('caller.id')`): each user's matches found by two index scans,
 * by `user_a` and by `user_b`. Joined on `eitherSide` instead, a batch of users' matches is
 * planned by the table's statistics, and on a table not yet analyzed (just filled) the planner
 * reads every active match for each user. A match is never on both sides (user_a < user_b), so
 * none comes twice.
 */
export function matchesOf(
  userId: Expression<number>,
  { active = false }: { active?: boolean } = {},
): RawBuilder<Match> {
  const status = active ? sql` AND status = 'active'` : sql``;
  return sql<Match>`(SELECT * FROM matches WHERE user_a = ${userId}${status}
    UNION ALL SELECT * FROM matches WHERE user_b = ${userId}${status})`;
}

/** Whether `userId` is one of the match's two sides. */
export function isSideOf(match: Pick<Match, 'user_a' | 'user_b'>, userId: number): boolean {
  return match.user_a === userId || match.user_b === userId;
}

/** The other side of the match from `userId`, who must be one of its sides. */
export function partnerOf(match: Pick<Match, 'user_a' | 'user_b'>, userId: number): number {
  return match.user_a === userId ? match.user_b : match.user_a;
}
