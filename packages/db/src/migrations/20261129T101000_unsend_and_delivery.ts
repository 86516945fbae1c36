import { sql, type Kysely } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code.

export async function up(db: Kysely<any>): Promise<void> {
  // Unsend (docs/design.md §4.6): a message taken back keeps its row, seq and counts (seqs stay
  // gapless, unlock levels never go down) but loses its body. deleted_at says when; the CHECK
  // makes "deleted" and "body erased" one and the same, so no path can keep the text of a message
  // that reads as deleted, nor hide one that still has it.
  await sql`
    ALTER TABLE messages
      ALTER COLUMN body DROP NOT NULL,
      ADD COLUMN deleted_at timestamptz,
      ADD CONSTRAINT messages_deleted_body_erased CHECK ((deleted_at IS NULL) = (body IS NOT NULL))
  `.execute(db);
  // Delivery receipts (docs/design.md §4.7): each side's last seq that reached one of its
  // devices, a watermark beside the last read seq, moved only forward.
  await sql`
    ALTER TABLE matches
      ADD COLUMN a_last_delivered_seq bigint NOT NULL DEFAULT 0,
      ADD COLUMN b_last_delivered_seq bigint NOT NULL DEFAULT 0
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE matches
      DROP COLUMN IF EXISTS a_last_delivered_seq,
      DROP COLUMN IF EXISTS b_last_delivered_seq
  `.execute(db);
  // A message deleted meanwhile has no text left to restore: it comes back empty.
  await sql`
    ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_deleted_body_erased,
      DROP COLUMN IF EXISTS deleted_at
  `.execute(db);
  await sql`UPDATE messages SET body = '' WHERE body IS NULL`.execute(db);
  await sql`ALTER TABLE messages ALTER COLUMN body SET NOT NULL`.execute(db);
}
