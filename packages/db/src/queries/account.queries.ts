import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, User } from '../schema';
import { eitherSide } from './match-sides';
import { inForce } from './moderation-desk.queries';

/** What an erased profile keeps of a name: the column is NOT NULL. */
export const DELETED_DISPLAY_NAME = 'Deleted user';

/**
 * Erases the user's account in the caller's transaction: the profile's personal fields are
 * blanked and `deleted_at` set, every active match of theirs is ended (`unmatched`, ended by them),
 * their uploaded photo, the blocks they made and their daily counters are removed, and their
 * messages no longer name them (`sender_id` NULL). Reports they filed stay: moderation keeps its
 * evidence. Returns the matches it ended; `erased` is false when there was no live account to
 * erase (none, or deleted before), which makes a second call a no-op.
 */
export async function eraseAccount(trx: Transaction<Database>, userId: number) {
  const erased = await trx
    .updateTable('users')
    .set({
      display_name: DELETED_DISPLAY_NAME,
      email: null,
      gender: null,
      birth_date: null,
      city: null,
      interests: [],
      bio: null,
      photo_url: null,
      deleted_at: sql`now()`,
      updated_at: sql`now()`,
    })
    .where('id', '=', userId)
    .where('deleted_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!erased) return { erased: false, endedMatches: [] };

  const endedMatches = await trx
    .updateTable('matches')
    .set({ status: 'unmatched', ended_at: sql`now()`, ended_by: userId })
    .where(eitherSide(userId))
    .where('status', '=', 'active')
    .returning(['id', 'user_a', 'user_b'])
    .execute();
  // Through the user's matches, so the (match_id, seq) index finds the rows: messages has no
  // index on sender_id, and this must not scan every message.
  await trx
    .updateTable('messages')
    .set({ sender_id: null })
    .where('match_id', 'in', (eb) =>
      eb.selectFrom('matches').select('id').where(eitherSide(userId)),
    )
    .where('sender_id', '=', userId)
    .execute();
  await trx.deleteFrom('user_photos').where('user_id', '=', userId).execute();
  await trx.deleteFrom('blocks').where('blocker_id', '=', userId).execute();
  await trx.deleteFrom('daily_match_counts').where('user_id', '=', userId).execute();
  return { erased: true, endedMatches };
}

/** A sanction in force on an account: a suspension until a time, or a ban (`until` null). */
export interface AccountRestriction {
  kind: 'suspended' | 'banned';
  until: Date | null;
}

/** Whether an account may act: deleted, or under a sanction in force, or neither. */
export interface AccountStanding {
  deleted: boolean;
  restriction: AccountRestriction | undefined;
}

/** What a connecting socket needs: the account's standing, and its active matches' ids. */
export type ConnectingUser = AccountStanding & { activeMatchIds: number[] };

/**
 * What connecting sockets need, for many users in one round trip: each account's standing
 * (deleted, suspended, banned), and the ids of each user's active matches (the rooms it joins).
 * Every user asked for is answered; a user with no profile yet is not deleted. The read is
 * `connecting_users` (src/sql/connecting_users.sql), whose plan PostgreSQL keeps per session.
 */
export async function findConnectingUsers(
  db: Kysely<Database>,
  userIds: number[],
): Promise<Map<number, ConnectingUser>> {
  const { rows } = await sql<StandingRow & { user_id: number; match_id: number | null }>`
    SELECT user_id, deleted_at, kind, until, match_id
    FROM connecting_users(${userIds}::bigint[])
  `.execute(db);
  const users = new Map<number, ConnectingUser>();
  for (const row of rows) {
    let user = users.get(row.user_id);
    if (!user) users.set(row.user_id, (user = { ...standingOf(row), activeMatchIds: [] }));
    if (row.match_id !== null) user.activeMatchIds.push(row.match_id);
  }
  return users;
}

interface StandingRow {
  deleted_at: Date | null;
  kind: 'suspended' | 'banned' | null;
  until: Date | null;
}

const standingOf = (row: StandingRow | undefined): AccountStanding => ({
  deleted: row?.deleted_at != null,
  restriction: row?.kind ? { kind: row.kind, until: row.until } : undefined,
});

/** The account's standing (a user with no profile yet is neither deleted nor restricted). */
export async function findAccountStanding(
  db: Kysely<Database>,
  userId: number,
): Promise<AccountStanding> {
  const { rows } = await sql<StandingRow>`
    SELECT u.deleted_at, r.kind, r.until
    FROM (SELECT ${userId}::bigint AS id) AS caller
    LEFT JOIN users u ON u.id = caller.id
    LEFT JOIN account_restrictions r ON r.user_id = caller.id AND ${inForce(sql.ref('r.until'))}
  `.execute(db);
  return standingOf(rows[0]);
}

/**
 * The caller's standing and their row (undefined without a profile), in one query: what
 * find-match starts from, so refusing an account that may not act costs it no round trip of its
 * own. The row is returned deleted or not: the standing says which.
 */
export async function findUserWithStanding(
  db: Kysely<Database>,
  userId: number,
): Promise<{ user: User | undefined; standing: AccountStanding }> {
  const { rows } = await sql<
    User & { restriction_kind: StandingRow['kind']; restriction_until: Date | null }
  >`
    SELECT u.*, r.kind AS restriction_kind, r.until AS restriction_until
    FROM (SELECT ${userId}::bigint AS caller_id) AS caller
    LEFT JOIN users u ON u.id = caller.caller_id
    LEFT JOIN account_restrictions r
      ON r.user_id = caller.caller_id AND ${inForce(sql.ref('r.until'))}
  `.execute(db);
  const { restriction_kind: kind, restriction_until: until, ...user } = rows[0]!;
  return {
    user: user.id === null ? undefined : user,
    standing: standingOf({ deleted_at: user.deleted_at, kind, until }),
  };
}
