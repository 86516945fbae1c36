import type { Kysely } from 'kysely';
import type { Database, NewUser } from '../schema';

export type ProfileFields = Pick<
  NewUser,
  'display_name' | 'gender' | 'birth_date' | 'city' | 'interests' | 'bio' | 'photo_url'
>;

/**
 * Creates the user with the given id (the token's subject) or updates their profile fields.
 * Undefined when the account was deleted: an erased profile never comes back.
 */
export function upsertUserProfile(
  db: Kysely<Database>,
  userId: number,
  profile: ProfileFields,
  defaults: Pick<NewUser, 'verification_status'> = {},
) {
  return db
    .insertInto('users')
    .values({ id: userId, ...defaults, ...profile })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ ...profile, updated_at: new Date(), last_active_at: new Date() })
        .where('users.deleted_at', 'is', null),
    )
    .returningAll()
    .executeTakeFirst();
}

export function findUserById(db: Kysely<Database>, userId: number) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}
