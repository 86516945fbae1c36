import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema';
import {
  visibleTo,
  withinFilters,
  type ProfileFilters,
  type UsersQuery,
} from './matchmaking.queries';

/**
 * What a discovery card may show, and nothing else: the fields the find-match filters reveal
 * anyway. Age in whole years from the UTC date, as the age filters count it.
 */
const CARD = [
  'u.id',
  'u.gender',
  sql<
    number | null
  >`extract(year FROM age((now() AT TIME ZONE 'utc')::date, u.birth_date))::int`.as('age'),
  'u.city',
  'u.interests',
] as const;

/**
 * Visible to the user, whoever they are matched with: were a partner's card left out, scrolling
 * before and after a match would show exactly which card went, the partner's, with fields the
 * match has not unlocked yet (gender opens only at level 4). For the same reason only the user's
 * own blocks hide a card here: a card that vanished when someone blocked the user would point at
 * that (ex-)partner. Find-match still keeps both sides of a block apart.
 */
const discoverableBy = <O>(qb: UsersQuery<O>, userId: number) =>
  visibleTo(qb, userId, { hiddenBy: 'own blocks' });

/**
 * A page of profiles `userId` may discover, newest profile first, after the keyset `beforeId`.
 * Keyset on the id over the partial index of visible profiles (`users_visible_id_idx`), so a page
 * deep in the scroll costs what the first one does. `limit + 1` rows tell whether more follow.
 */
export function scrollProfiles(db: Kysely<Database>, userId: number, page: ScrollPage) {
  return scrollProfilesQuery(db, userId, page).execute();
}

export type ScrollPage = ProfileFilters & { beforeId?: number; limit: number };

/** The scroll's query, unexecuted: tests read its plan. */
export function scrollProfilesQuery(db: Kysely<Database>, userId: number, page: ScrollPage) {
  return db
    .selectFrom('users as u')
    .select(CARD)
    .$call((qb) => discoverableBy(qb, userId))
    .$call((qb) => withinFilters(qb, page))
    .$if(page.beforeId !== undefined, (qb) => qb.where('u.id', '<', page.beforeId!))
    .orderBy('u.id', 'desc')
    .limit(page.limit + 1);
}

/** The cards of these ids that `userId` may discover, in one query; the others are left out. */
export function profilesByIds(db: Kysely<Database>, userId: number, ids: number[]) {
  return db
    .selectFrom('users as u')
    .select(CARD)
    .$call((qb) => discoverableBy(qb, userId))
    .where('u.id', '=', sql<number>`ANY(${ids}::bigint[])`)
    .execute();
}
