import type { Kysely } from 'kysely';
import type { Database, UserPhotosTable } from '../schema';

export type PhotoRendition = 'clear' | 'blur_50' | 'blur_25';

export type NewUserPhoto = Omit<UserPhotosTable, 'updated_at'>;

/** Stores the user's photo and its renditions, replacing any earlier one. */
export async function saveUserPhoto(db: Kysely<Database>, photo: NewUserPhoto): Promise<void> {
  const { user_id: _, ...fields } = photo;
  await db
    .insertInto('user_photos')
    .values(photo)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ ...fields, updated_at: new Date() }))
    .execute();
}

/** One rendition of a user's photo, with its content type; undefined when none was uploaded. */
export function findPhotoRendition(
  db: Kysely<Database>,
  userId: number,
  rendition: PhotoRendition,
): Promise<{ content_type: string; bytes: Buffer; updated_at: Date } | undefined> {
  return db
    .selectFrom('user_photos')
    .select(['content_type', `${rendition} as bytes`, 'updated_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** True when there was a photo to delete. */
export async function deleteUserPhoto(db: Kysely<Database>, userId: number): Promise<boolean> {
  const result = await db
    .deleteFrom('user_photos')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
