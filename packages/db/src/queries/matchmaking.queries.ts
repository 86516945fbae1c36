import { sql, type InferResult, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { Database, Gender, Match, UsersTable } from '../schema';
import { orderedPair } from './matches.queries';
import { USER_COLUMNS, type PartnerRow } from './users.queries';
import { eitherSide } from './match-sides';
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

/** Profiles with no match with `userId` (`activeOnly`: no active one). */
export function notMatchedWith<O>(
  qb: UsersQuery<O>,
  userId: number,
  { activeOnly }: { activeOnly: boolean },
): UsersQuery<O> {
  return qb.where(({ eb, selectFrom }) =>
    eb(
      'u.id',
      'not in',
      selectFrom('matches as m')
        .select(
          sql<number>`CASE WHEN m.user_a = ${userId} THEN m.user_b ELSE m.user_a END`.as('id'),
        )
        .where(eitherSide(userId, 'm'))
        .$if(activeOnly, (q) => q.where('m.status', '=', 'active')),
    ),
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

/**
 * Who `userId` may be matched with, most recently active first: visible to the user, not already
 * in an active match with the user, active recently, and inside the filters. The caller ranks
 * them by compatibility. `activeAt`: also records the user's activity at that time, in the same
 * statement, so a search that records it costs no round trip of its own. The update holds the
 * user's row lock only while the statement runs, as one of its own would.
 */
export async function listCandidates(
  db: Kysely<Database>,
  userId: number,
  filters: CandidateFilters,
  { activeAt }: { activeAt?: Date } = {},
): Promise<Candidate[]> {
  const query = listCandidatesQuery(db, userId, filters);
  if (!activeAt) return query.execute();
  // A data-modifying CTE runs whether or not the query reads it; the candidates are read from
  // the statement's snapshot, and the user is never their own candidate.
  const { rows } = await sql<Candidate>`
    WITH touched AS (
      UPDATE users SET last_active_at = ${activeAt} WHERE id = ${userId}::bigint
    )
    ${query}`.execute(db);
  return rows;
}

/**
 * The candidates' query, unexecuted: tests read its plan. Two steps, so its cost follows the
 * `limit`, not the number of users. The inner step walks a partial index of visible users in
 * `last_active_at DESC` order (`users_candidates_idx`, or under the gender or the normalised city
 * when one is asked for: `users_candidates_gender_idx`, `users_candidates_city_idx`) and stops
 * after `limit` ids pass; the gender and age filters are checked on the index entry, so a
 * rejected user costs no heap read where the page is all-visible. Only the outer step reads the
 * rows it returns, by primary key.
 */
export function listCandidatesQuery(
  db: Kysely<Database>,
  userId: number,
  filters: CandidateFilters,
) {
  const picked = db
    .selectFrom('users as u')
    .select('u.id')
    .$call((qb) => visibleTo(qb, userId))
    .$call((qb) => withinFilters(qb, filters))
    .where('u.last_active_at', '>=', filters.activeSince)
    .$call((qb) => notMatchedWith(qb, userId, { activeOnly: true }))
    .orderBy('u.last_active_at', 'desc')
    .orderBy('u.id')
    .limit(filters.limit);
  return (
    db
      .selectFrom('users as c')
      // What ranking needs; the activity order is the rows' order.
      .select(['c.id', 'c.birth_date', 'c.city', 'c.interests'])
      .where('c.id', 'in', picked)
      .orderBy('c.last_active_at', 'desc')
      .orderBy('c.id')
  );
}

export type Candidate = InferResult<ReturnType<typeof listCandidatesQuery>>[number];

/** Today, as the database's clock sees it in UTC: the day the daily limit counts in. */
const utcToday = sql<string>`(now() AT TIME ZONE 'utc')::date`;

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
 * Stores an active match, in one statement so the claim costs one round trip and holds its locks
 * for no longer than that statement:
 *
 * 1. share-locks both users' rows (in id order) and checks both are live. An account deletion,
 *    which updates its row first, then either waits for this statement and ends the match it
 *    stored, or makes the check fail. Share locks do not conflict with each other, so many
 *    searchers claiming the same candidate at once do not queue behind each other.
 * 2. takes one of the searcher's slots for today: a conditional upsert on the searcher's counter
 *    row, so concurrent searches of one user queue on that row and never pass the limit. With
 *    `dailyLimit` null (premium) the slot has no cap but is counted all the same, so the day's
 *    count (`matches_today`) is everyone's.
 * 3. inserts the match. A pair that got an active match meanwhile violates the partial unique
 *    index: the statement fails as a whole, the slot with it, and the error is a unique violation
 *    (`isUniqueViolation`).
 * 4. enqueues the partner's `match` push (the searcher has the answer), under the event key
 *    `enqueueNotifications` would use: stored with the match or not at all, as a transaction
 *    around the two would, without its four extra round trips (BEGIN, its settings, COMMIT).
 * 5. reads both users' rows as `findPartnerRows` does, for the views of the match each is sent:
 *    the round trip that would read them next is saved.
 *
 * Returns the match and both users' rows, or undefined when either user is deleted or the limit
 * is reached.
 */
export async function claimMatch(
  db: Kysely<Database>,
  { userId, otherId, dailyLimit, ttlMs }: MatchClaim,
): Promise<ClaimedMatch | undefined> {
  const { user_a, user_b } = orderedPair(userId, otherId);
  const live = sql`live AS (
      SELECT count(*) = 2 AS ok FROM (
        SELECT id FROM users
        WHERE id IN (${user_a}::bigint, ${user_b}::bigint) AND deleted_at IS NULL
        ORDER BY id FOR SHARE
      ) AS locked
    )`;
  const slot = sql`slot AS (
      INSERT INTO daily_match_counts (user_id, day, count)
      SELECT ${userId}::bigint, ${utcToday}, 1 FROM live WHERE live.ok
      ON CONFLICT (user_id, day) DO UPDATE SET count = daily_match_counts.count + 1
        ${dailyLimit === null ? sql`` : sql`WHERE daily_match_counts.count < ${dailyLimit}::int`}
      RETURNING count
    )`;
  const claimed = sql`claimed AS (
      INSERT INTO matches (user_a, user_b, created_by, expires_at)
      SELECT ${user_a}::bigint, ${user_b}::bigint, ${userId}::bigint,
        now() + make_interval(secs => ${ttlMs / 1000}::float8)
      FROM live
      WHERE live.ok AND EXISTS (SELECT 1 FROM slot)
      RETURNING *
    )`;
  const push = sql`push AS (
      INSERT INTO notification_outbox (user_id, match_id, kind, event_key)
      SELECT ${otherId}::bigint, claimed.id, 'match', 'match:' || claimed.id || ':' || ${otherId}::bigint
      FROM claimed
      ON CONFLICT (event_key) DO NOTHING
    )`;
  // One row: the match's columns, then each user's under a prefix (`a.` for user_a, `b.`).
  const { rows } = await sql<Record<string, unknown>>`
    WITH ${live}, ${slot}, ${claimed}, ${push}
    SELECT claimed.*, ${sideColumns('a')}, ${sideColumns('b')}
    FROM claimed
    JOIN users a ON a.id = claimed.user_a
    JOIN users b ON b.id = claimed.user_b`.execute(db);
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

/** The columns of a `PartnerRow` of the users row aliased `side`, each named `<side>.<column>`. */
function sideColumns(side: 'a' | 'b') {
  return sql.join([
    ...USER_COLUMNS.map(
      (column) => sql`${sql.ref(`${side}.${column}`)} AS ${sql.id(`${side}.${column}`)}`,
    ),
    sql`EXISTS (SELECT 1 FROM user_photos p WHERE p.user_id = ${sql.ref(`${side}.id`)}) AS ${sql.id(`${side}.has_uploaded_photo`)}`,
  ]);
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
    .where('day', '=', utcToday)
    .executeTakeFirst();
  return row?.count ?? 0;
}
