import { sql, type InsertObject, type Kysely } from 'kysely';
import type { Database } from '../schema';

/** A pair is stored once, smaller id first (`user_a < user_b` is a table constraint). */
export function orderedPair(x: number, y: number): { user_a: number; user_b: number } {
  return x < y ? { user_a: x, user_b: y } : { user_a: y, user_b: x };
}

/**
 * Inserts an active match, or nothing when the pair already has one: the partial unique index
 * decides, so two concurrent requests can never create two active matches for one pair.
 */
export function insertActiveMatch(db: Kysely<Database>, match: InsertObject<Database, 'matches'>) {
  return db
    .insertInto('matches')
    .values(match)
    .onConflict((oc) => oc.columns(['user_a', 'user_b']).where('status', '=', 'active').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function findMatchById(db: Kysely<Database>, matchId: number) {
  return db.selectFrom('matches').selectAll().where('id', '=', matchId).executeTakeFirst();
}

/** Every match of a user, newest first. */
export function listMatchesOfUser(db: Kysely<Database>, userId: number) {
  return db
    .selectFrom('matches')
    .selectAll()
    .where((eb) => eb.or([eb('user_a', '=', userId), eb('user_b', '=', userId)]))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/** The matches with these ids, in one query (in no particular order; unknown ids are left out). */
export function findMatchesByIds(db: Kysely<Database>, matchIds: number[]) {
  return db
    .selectFrom('matches')
    .selectAll()
    .where('id', '=', sql<number>`ANY(${matchIds}::bigint[])`)
    .execute();
}
