import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code.

export async function up(db: Kysely<any>): Promise<void> {
  // Uploaded photos with the renditions the unlock levels show (docs/design.md §3.4): rendered
  // once at upload, so serving a blurred photo is a read, never an image operation per request.
  // In PostgreSQL, not a bucket, so the embedded default and backups need nothing else; one row
  // per user, a few hundred KB at most (the upload is resized before it is stored).
  await sql`
    CREATE TABLE user_photos (
      user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      content_type text NOT NULL,
      clear bytea NOT NULL,
      blur_50 bytea NOT NULL,
      blur_25 bytea NOT NULL,
      width int NOT NULL,
      height int NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS user_photos`.execute(db);
}
