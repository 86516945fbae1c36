import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Database, Gender, UsersTable } from '../schema';
import { eitherSide } from './match-sides';

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
 * Profiles `userId` may see at all: approved and not deleted, not the user, and not blocked
 * either way (a block hides each from the other). `hiddenBy: 'own blocks'` hides only whom the
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
  return qb
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
    });
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
 * them by compatibility.
 */
export function listCandidates(db: Kysely<Database>, userId: number, filters: CandidateFilters) {
  return listCandidatesQuery(db, userId, filters).execute();
}

/**
 * The candidates' query, unexecuted: tests read its plan. Two steps, so its cost follows the
 * `limit`, not the number of users. The inner step walks a partial index of visible users in
 * `last_active_at DESC` order (`users_candidates_idx`, or `users_candidates_city_idx` under its
 * normalised city when a city is asked for) and stops after `limit` ids pass; the gender and age
 * filters are checked on the index entry (both are included in it), so a rejected user costs no
 * heap read. Only the outer step reads the rows it returns, by primary key.
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
  return db
    .selectFrom('users as c')
    .select(['c.id', 'c.birth_date', 'c.city', 'c.interests', 'c.last_active_at'])
    .where('c.id', 'in', picked)
    .orderBy('c.last_active_at', 'desc')
    .orderBy('c.id');
}

export type Candidate = Awaited<ReturnType<typeof listCandidates>>[number];

/** Today, as the database's clock sees it in UTC: the day the daily limit counts in. */
const utcToday = sql<string>`(now() AT TIME ZONE 'utc')::date`;

/**
 * Takes one of the user's matches for today, if fewer than `limit` are taken: a conditional
 * upsert on the user's counter row, so concurrent calls serialise on that row and never pass the
 * limit. Returns the new count, or undefined when the limit is reached. Rolled back with its
 * transaction when no match is stored after all.
 */
export async function takeDailyMatchSlot(
  trx: Transaction<Database>,
  userId: number,
  limit: number,
): Promise<number | undefined> {
  const row = await trx
    .insertInto('daily_match_counts')
    .values({ user_id: userId, day: utcToday, count: 1 })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'day'])
        .doUpdateSet({ count: sql`daily_match_counts.count + 1` })
        .where('daily_match_counts.count', '<', limit),
    )
    .returning('count')
    .executeTakeFirst();
  return row?.count;
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
