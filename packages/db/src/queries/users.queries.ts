import { sql, type Kysely } from 'kysely';
import type { Database, NewUser, User, VerificationStatus } from '../schema';

export type ProfileFields = Pick<
  NewUser,
  'display_name' | 'gender' | 'birth_date' | 'city' | 'interests' | 'bio' | 'photo_url'
>;

/**
 * Creates the user with the given id (the token's subject) or updates their profile fields.
 * `reviewChanges`: a changed name, bio or photo URL makes the profile pending again. Undefined when the account was deleted: an erased profile never comes back.
 */
export function upsertUserProfile(
  db: Kysely<Database>,
  userId: number,
  profile: ProfileFields,
  defaults: Pick<NewUser, 'verification_status'> = {},
  { reviewChanges = false }: { reviewChanges?: boolean } = {},
) {
  // A change of what a moderator judges (name, bio, photo) puts the profile back in the queue.
  const reviewed = sql`users.display_name IS DISTINCT FROM excluded.display_name
    OR users.bio IS DISTINCT FROM excluded.bio
    OR users.photo_url IS DISTINCT FROM excluded.photo_url`;
  const review = reviewChanges
    ? {
        verification_status: sql<VerificationStatus>`CASE WHEN ${reviewed} THEN 'pending' ELSE users.verification_status END`,
        verification_note: sql<
          string | null
        >`CASE WHEN ${reviewed} THEN NULL ELSE users.verification_note END`,
      }
    : {};
  return db
    .insertInto('users')
    .values({ id: userId, ...defaults, ...profile })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ ...profile, ...review, updated_at: new Date(), last_active_at: new Date() })
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

/** A user as a match partner is drawn from: the profile, and whether a photo was uploaded. */
export type PartnerRow = User & { has_uploaded_photo: boolean };

/** Every column of `users`: for a statement that reads whole user rows beside another table's. */
export const USER_COLUMNS = [
  'id',
  'display_name',
  'email',
  'gender',
  'birth_date',
  'city',
  'interests',
  'bio',
  'photo_url',
  'is_premium',
  'premium_until',
  'verification_status',
  'verification_note',
  'last_active_at',
  'created_at',
  'updated_at',
  'deleted_at',
] as const satisfies readonly (keyof User)[];
// A column missing from the list fails to compile here, so the rows read with it stay whole.
type UnlistedColumn = Exclude<keyof User, (typeof USER_COLUMNS)[number]>;
const everyColumnListed: [UnlistedColumn] extends [never] ? true : UnlistedColumn = true;
void everyColumnListed;

/** The (not deleted) users among these ids, with whether each uploaded a photo: one query. */
export function findPartnerRows(db: Kysely<Database>, userIds: number[]): Promise<PartnerRow[]> {
  if (userIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('users')
    .selectAll('users')
    .select((eb) =>
      eb
        .exists(eb.selectFrom('user_photos').select('user_id').whereRef('user_id', '=', 'users.id'))
        .$castTo<boolean>()
        .as('has_uploaded_photo'),
    )
    .where('id', 'in', userIds)
    .where('deleted_at', 'is', null)
    .execute();
}
