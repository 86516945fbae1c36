import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database, Gender, Match, UsersTable } from '../schema';
import type { PartnerRow } from './users.queries';
import { inForce } from './moderation-desk.queries';

/** Who a user is looking for (the find-match and discovery filters). */
export interface ProfileFilters {
  gender?: Gender;
  minAge?: number;
  maxAge?: number;
  /** Compared without regard to case. */
  city?: string;
  /** At least one shared. */
  interests?: string[];
}

export interface CandidateFilters extends ProfileFilters {
  /** Only users active since then. */
  activeSince: Date;
  limit: number;
}

/** A query over `users as u`. */
export type UsersQuery<O> = SelectQueryBuilder<Database & { u: UsersTable }, 'u', O>;

/**
 * Profiles `userId` may see at all: approved, not deleted, suspended or banned, not the user, and
 * not blocked either way (a block hides each from the other). `hiddenBy: 'own blocks'` hides only whom the
 * user blocked: discovery, where what a block made vanish would point at the blocker.
 *
 * The user's blocks (and matches, below) are a handful of rows: read once through their indexes
 * and hashed (`NOT IN` over a subquery), so each profile read costs one hash probe, not a join.
 * The ids are never null, so `NOT IN` means what `NOT EXISTS` would.
 */
export function visibleTo<O>(
  qb: UsersQuery<O>,
  userId: number,
  { hiddenBy = 'blocks either way' }: { hiddenBy?: 'blocks either way' | 'own blocks' } = {},
): UsersQuery<O> {
  return (
    qb
      .where('u.id', '!=', userId)
      .where('u.verification_status', '=', 'approved')
      .where('u.deleted_at', 'is', null)
      .where(({ eb, selectFrom }) => {
        const blockedByUser = selectFrom('blocks as b')
          .select('b.blocked_id as id')
          .where('b.blocker_id', '=', userId);
        const blockersOfUser = selectFrom('blocks as b')
          .select('b.blocker_id as id')
          .where('b.blocked_id', '=', userId);
        return eb(
          'u.id',
          'not in',
          hiddenBy === 'blocks either way' ? blockedByUser.unionAll(blockersOfUser) : blockedByUser,
        );
      })
      // Suspended and banned users: a handful of rows, hashed once like the blocks.
      .where(({ eb, selectFrom }) =>
        eb(
          'u.id',
          'not in',
          selectFrom('account_restrictions as r')
            .select('r.user_id as id')
            .where(inForce(sql.ref('r.until'))),
        ),
      )
  );
}

/** Profiles inside the filters. */
export function withinFilters<O>(qb: UsersQuery<O>, filters: ProfileFilters): UsersQuery<O> {
  const { gender, minAge, maxAge, city, interests } = filters;
  return (
    qb
      .$if(gender !== undefined, (q) => q.where('u.gender', '=', gender!))
      .$if(city !== undefined, (q) => q.where(sql<string>`lower(u.city)`, '=', city!.toLowerCase()))
      .$if(interests !== undefined, (q) =>
        q.where(sql<boolean>`u.interests && ${interests}::text[]`, '=', true),
      )
      // Age in whole years, from the UTC date: at least minAge means born on or before that many
      // years ago; at most maxAge means born after maxAge + 1 years ago.
      .$if(minAge !== undefined, (q) =>
        q.where(
          'u.birth_date',
          '<=',
          sql<string>`((now() AT TIME ZONE 'utc')::date - make_interval(years => ${minAge}::int))::date`,
        ),
      )
      .$if(maxAge !== undefined, (q) =>
        q.where(
          'u.birth_date',
          '>',
          sql<string>`((now() AT TIME ZONE 'utc')::date - make_interval(years => ${maxAge! + 1}::int))::date`,
        ),
      )
  );
}

/** A candidate for find-match: what ranking needs. */
export interface Candidate {
  id: number;
  /** 'YYYY-MM-DD'. */
  birth_date: string | null;
  city: string | null;
  interests: string[];
}

/**
 * Who `userId` may be matched with, the `limit` most recently active first: visible to the user,
 * not already in an active match with the user, active recently, and inside the filters. The
 * caller ranks them by compatibility. `activeAt`: also records the user's activity at that time,
 * in the same call. One call of `match_candidates` (src/sql/match_candidates.sql), whose plans
 * PostgreSQL keeps per session.
 */
export async function listCandidates(
  db: Kysely<Database>,
  userId: number,
  filters: CandidateFilters,
  { activeAt }: { activeAt?: Date } = {},
): Promise<Candidate[]> {
  const { rows } = await matchCandidatesCall(userId, filters, activeAt ?? null).execute(db);
  return rows;
}

/** The `match_candidates` call, unexecuted: tests read the plans it runs. */
export function matchCandidatesCall(
  userId: number,
  { gender, minAge, maxAge, city, interests, activeSince, limit }: CandidateFilters,
  activeAt: Date | null = null,
) {
  return sql<Candidate>`SELECT * FROM match_candidates(
    ${userId}::bigint, ${activeSince}::timestamptz, ${limit}::int,
    ${gender ?? null}::text, ${minAge ?? null}::int, ${maxAge ?? null}::int, ${city ?? null}::text,
    ${interests ?? null}::text[], ${activeAt}::timestamptz)`;
}

/** What `claimMatch` stores. */
export interface MatchClaim {
  /** Who searched: the match's `created_by`, and whose daily slot is taken. */
  userId: number;
  otherId: number;
  /** The searcher's matches a day; null for premium (no limit, still counted). */
  dailyLimit: number | null;
  /** The match's lifetime, from the database's clock. */
  ttlMs: number;
}

/**
 * Stores an active match, in one call of `claim_match` (src/sql/claim_match.sql, where each step
 * is explained): share-locks both users and checks both are live, takes one of the searcher's
 * slots for today (capped by `dailyLimit`), inserts the match, enqueues the partner's `match` push,
 * and reads both users' rows as `findPartnerRows` does, for the views of the match each is sent.
 * One statement, so the claim costs one round trip, holds its locks for no longer than that, and
 * fails as a whole: a pair that got an active match meanwhile is a unique violation
 * (`isUniqueViolation`), the slot and the push rolled back with it.
 *
 * Returns the match and both users' rows, or undefined when either user is deleted or the limit
 * is reached.
 */
export async function claimMatch(
  db: Kysely<Database>,
  { userId, otherId, dailyLimit, ttlMs }: MatchClaim,
): Promise<ClaimedMatch | undefined> {
  // One row: the match's columns, then each user's under a prefix (`a.` for user_a, `b.`).
  const { rows } = await sql<Record<string, unknown>>`SELECT * FROM claim_match(
    ${userId}::bigint, ${otherId}::bigint, ${dailyLimit}::int, ${ttlMs / 1000}::float8)`.execute(
    db,
  );
  const row = rows[0];
  if (!row) return undefined;
  const match: Record<string, unknown> = {};
  const sides: Record<'a' | 'b', Record<string, unknown>> = { a: {}, b: {} };
  for (const [key, value] of Object.entries(row)) {
    const side = key.startsWith('a.') ? 'a' : key.startsWith('b.') ? 'b' : undefined;
    if (side) sides[side][key.slice(2)] = value;
    else match[key] = value;
  }
  return { match: match as Match, users: [sides.a as PartnerRow, sides.b as PartnerRow] };
}

/** A stored match, with both users' rows (user_a's first) as `findPartnerRows` reads them. */
export interface ClaimedMatch {
  match: Match;
  users: [PartnerRow, PartnerRow];
}

const UNIQUE_VIOLATION = '23505';

/** Whether a query failed on a unique index (a pair `claimMatch` found taken). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;
}

/** Matches the user created today (UTC). */
export async function countMatchesToday(db: Kysely<Database>, userId: number): Promise<number> {
  const row = await db
    .selectFrom('daily_match_counts')
    .select('count')
    .where('user_id', '=', userId)
    .where('day', '=', sql<string>`(now() AT TIME ZONE 'utc')::date`)
    .executeTakeFirst();
  return row?.count ?? 0;
}
