import type { Kysely } from 'kysely';
import type { Database } from '../schema';

/**
 * The internal user id of an identity provider's subject, given one from `external_user_ids` the
 * first time the pair is seen. Concurrent first sights (two pods, two tabs) agree: the insert that
 * loses the race does nothing and both read the winner's row.
 */
export async function externalUserId(
  db: Kysely<Database>,
  issuer: string,
  subject: string,
): Promise<number> {
  const inserted = await db
    .insertInto('external_identities')
    .values({ issuer, subject })
    .onConflict((oc) => oc.columns(['issuer', 'subject']).doNothing())
    .returning('user_id')
    .executeTakeFirst();
  if (inserted) return inserted.user_id;
  const row = await db
    .selectFrom('external_identities')
    .select('user_id')
    .where('issuer', '=', issuer)
    .where('subject', '=', subject)
    .executeTakeFirstOrThrow();
  return row.user_id;
}
