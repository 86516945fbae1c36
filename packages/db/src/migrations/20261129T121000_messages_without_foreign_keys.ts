import { sql, type Kysely } from 'kysely';
import { sqlFile } from '../sql/sql-file';

// Frozen in time: raw SQL only, no imports from application code (but the loader of src/sql).
//
// Each stored message paid for the two foreign keys of messages (a lookup each, and a key-share
// lock on the sender's users row) although append_messages, their only writer, checks both under
// the match's lock (docs/decisions.md, decision 43). What the keys did on a delete stays, by
// statement triggers: src/sql/messages_follow_deletes.sql, pinned by its sha256.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE messages
      DROP CONSTRAINT messages_match_id_fkey,
      DROP CONSTRAINT messages_sender_id_fkey
  `.execute(db);
  await sqlFile(
    'messages_follow_deletes.sql',
    'd48da0e5f83a24f37758165f5af42935c4260ffaf30b1f41783f19877ca335e5',
  ).execute(db);
  // A deleted match takes its messages with it (was ON DELETE CASCADE).
  await sql`
    CREATE TRIGGER matches_delete_messages
    AFTER DELETE ON matches REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION messages_follow_deletes()
  `.execute(db);
  // A deleted user's messages no longer name them (was ON DELETE SET NULL).
  await sql`
    CREATE TRIGGER users_unname_messages
    AFTER DELETE ON users REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION messages_follow_deletes()
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS users_unname_messages ON users`.execute(db);
  await sql`DROP TRIGGER IF EXISTS matches_delete_messages ON matches`.execute(db);
  await sql`DROP FUNCTION IF EXISTS messages_follow_deletes()`.execute(db);
  await sql`
    ALTER TABLE messages
      ADD CONSTRAINT messages_match_id_fkey
        FOREIGN KEY (match_id) REFERENCES matches (id) ON DELETE CASCADE,
      ADD CONSTRAINT messages_sender_id_fkey
        FOREIGN KEY (sender_id) REFERENCES users (id) ON DELETE SET NULL
  `.execute(db);
}
