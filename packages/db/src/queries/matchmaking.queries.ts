import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Database, Gender, UsersTable } from '../schema';

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
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('blocks as b')
            .select(sql.lit(1).as('one'))
            .where(({ or, and, eb }) =>
              or([
                and([eb('b.blocker_id', '=', userId), eb('b.blocked_id', '=', eb.ref('u.id'))]),
                ...(hiddenBy === 'blocks either way'
                  ? [
                      and([
                        eb('b.blocked_id', '=', userId),
                        eb('b.blocker_id', '=', eb.ref('u.id')),
                      ]),
                    ]
                  : []),
              ]),
            ),
        ),
      ),
    );
}

/** Profiles with no match with `userId` (`activeOnly`: no active one). */
export function notMatchedWith<O>(
  qb: UsersQuery<O>,
  userId: number,
  { activeOnly }: { activeOnly: boolean },
): UsersQuery<O> {
  return qb.where(({ not, exists, selectFrom }) =>
    not(
      exists(
        selectFrom('matches as m')
          .select(sql.lit(1).as('one'))
          .$if(activeOnly, (q) => q.where('m.status', '=', 'active'))
          .where(({ or, and, eb }) =>
            or([
              and([eb('m.user_a', '=', userId), eb('m.user_b', '=', eb.ref('u.id'))]),
              and([eb('m.user_b', '=', userId), eb('m.user_a', '=', eb.ref('u.id'))]),
            ]),
          ),
      ),
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
  return db
    .selectFrom('users as u')
    .select(['u.id', 'u.birth_date', 'u.city', 'u.interests', 'u.last_active_at'])
    .$call((qb) => visibleTo(qb, userId))
    .$call((qb) => withinFilters(qb, filters))
    .where('u.last_active_at', '>=', filters.activeSince)
    .$call((qb) => notMatchedWith(qb, userId, { activeOnly: true }))
    .orderBy('u.last_active_at', 'desc')
    .orderBy('u.id')
    .limit(filters.limit)
    .execute();
}

export type Candidate = Awaited<ReturnType<typeof listCandidates>>[number];

/** Today, as the database's clock sees it in UTC: the day the daily limit counts in. */
const utcToday = sql<string>`(now() AT TIME ZONE 'utc')::date`;

/**
 * Takes one of the user's matches for today, if fewer than `limit` are taken: a conditional
 * upsert on the user's counter row, so concurrent calls serialise on that row and never pass the
 * limit. `null` (premium): no limit, but the match is counted all the same, so the day's count
 * (`matches_today`) is everyone's. Returns the new count, or undefined when the limit is reached.
 * Rolled back with its transaction when no match is stored after all.
 */
export async function takeDailyMatchSlot(
  trx: Transaction<Database>,
  userId: number,
  limit: number | null,
): Promise<number | undefined> {
  const row = await trx
    .insertInto('daily_match_counts')
    .values({ user_id: userId, day: utcToday, count: 1 })
    .onConflict((oc) => {
      const add = oc
        .columns(['user_id', 'day'])
        .doUpdateSet({ count: sql`daily_match_counts.count + 1` });
      return limit === null ? add : add.where('daily_match_counts.count', '<', limit);
    })
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
