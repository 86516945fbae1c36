import { sql, type Kysely } from 'kysely';
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

/** An active match partner, and when they were last seen (null when never, or deleted). */
export interface PartnerLastSeen {
  partnerId: number;
  lastActiveAt: Date | null;
}

/**
 * The partners of each user's active matches with when each was last seen, for many users in one
 * query: what their connecting sockets are told. A user with no active match is left out.
 */
export async function listActivePartnersLastSeen(
  db: Kysely<Database>,
  userIds: number[],
): Promise<Map<number, PartnerLastSeen[]>> {
  const { rows } = await sql<{ user_id: string; partner_id: number; last_active_at: Date | null }>`
    SELECT caller.id AS user_id, partner.id AS partner_id,
      CASE WHEN u.deleted_at IS NULL THEN u.last_active_at END AS last_active_at
    FROM unnest(${userIds}::bigint[]) AS caller(id)
    JOIN matches m ON m.status = 'active' AND ${eitherSide(sql.ref<number>('caller.id'), 'm')}
    CROSS JOIN LATERAL (
      SELECT CASE WHEN m.user_a = caller.id THEN m.user_b ELSE m.user_a END AS id
    ) AS partner
    LEFT JOIN users u ON u.id = partner.id
  `.execute(db);
  const partners = new Map<number, PartnerLastSeen[]>();
  for (const row of rows) {
    const userId = Number(row.user_id);
    const list = partners.get(userId) ?? [];
    list.push({ partnerId: Number(row.partner_id), lastActiveAt: row.last_active_at });
    partners.set(userId, list);
  }
  return partners;
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
