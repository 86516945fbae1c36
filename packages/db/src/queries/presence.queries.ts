import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema';
import { matchesOf } from './match-sides';

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
  // src/sql/connecting_views.sql reads the same partners for connecting users: change both.
  const { rows } = await sql<{ user_id: string; partner_id: number; last_active_at: Date | null }>`
    SELECT caller.id AS user_id, partner.id AS partner_id,
      -- Looked up by key for each partner: a join is planned by statistics (matchesOf).
      (SELECT CASE WHEN u.deleted_at IS NULL THEN u.last_active_at END
       FROM users u WHERE u.id = partner.id) AS last_active_at
    FROM unnest(${userIds}::bigint[]) AS caller(id)
    CROSS JOIN LATERAL ${matchesOf(sql.ref<number>('caller.id'), { active: true })} m
    CROSS JOIN LATERAL (
      SELECT CASE WHEN m.user_a = caller.id THEN m.user_b ELSE m.user_a END AS id
    ) AS partner
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

/** What a connecting socket is told: the user's unread total, and their partners' presence. */
export interface ConnectingView {
  unreadTotal: number;
  partners: PartnerLastSeen[];
}

/**
 * `countUnreadTotals` (each match's count stopping at `cap`) and `listActivePartnersLastSeen` of
 * each user, in one call for many users: a reconnect storm's sockets ask for both at once. The
 * read is `connecting_views` (src/sql/connecting_views.sql), whose plan PostgreSQL keeps per
 * session: parsing and planning a statement cost it more than its few rows.
 */
export async function listConnectingViews(
  db: Kysely<Database>,
  { userIds, cap }: { userIds: number[]; cap: number },
): Promise<Map<number, ConnectingView>> {
  const { rows } = await sql<{
    user_id: number;
    unread_total: number;
    partner_id: number | null;
    last_active_at: Date | null;
  }>`
    SELECT user_id, unread_total, partner_id, last_active_at
    FROM connecting_views(${userIds}::bigint[], ${cap}::int)
  `.execute(db);
  const views = new Map<number, ConnectingView>();
  for (const row of rows) {
    let view = views.get(row.user_id);
    if (!view) views.set(row.user_id, (view = { unreadTotal: row.unread_total, partners: [] }));
    const { partner_id: partnerId, last_active_at: lastActiveAt } = row;
    if (partnerId !== null) view.partners.push({ partnerId, lastActiveAt });
  }
  return views;
}

/**
 * Stores when each user was last seen (their last socket went), in one statement for many: a
 * sweep after a pod died claims thousands at once.
 */
export async function touchLastActive(
  db: Kysely<Database>,
  seen: { userId: number; at: Date }[],
): Promise<void> {
  if (seen.length === 0) return;
  await sql`
    UPDATE users u SET last_active_at = s.at
    FROM unnest(${seen.map((s) => s.userId)}::bigint[], ${seen.map((s) => s.at)}::timestamptz[])
      AS s(id, at)
    WHERE u.id = s.id`.execute(db);
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
