import type { Kysely } from 'kysely';
import type { Database } from '../schema';
import { eitherSide } from './match-sides';

/** The partners of the user's active matches: who hears of their presence. */
export async function listActivePartnerIds(
  db: Kysely<Database>,
  userId: number,
): Promise<number[]> {
  const rows = await db
    .selectFrom('matches')
    .select((eb) =>
      eb
        .case()
        .when('user_a', '=', userId)
        .then(eb.ref('user_b'))
        .else(eb.ref('user_a'))
        .end()
        .as('partner_id'),
    )
    .where('status', '=', 'active')
    .where(eitherSide(userId))
    .execute();
  return rows.map((row) => row.partner_id);
}

/** Stores when the user was last seen (their last socket went). */
export async function touchLastActive(
  db: Kysely<Database>,
  userId: number,
  at: Date,
): Promise<void> {
  await db.updateTable('users').set({ last_active_at: at }).where('id', '=', userId).execute();
}

export async function findLastActive(
  db: Kysely<Database>,
  userId: number,
): Promise<Date | undefined> {
  const row = await db
    .selectFrom('users')
    .select('last_active_at')
    .where('id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row?.last_active_at;
}
