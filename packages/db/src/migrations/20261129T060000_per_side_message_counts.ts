import { sql, type Kysely } from 'kysely';
import { sqlFile } from '../sql/sql-file';
import * as previous from './20261123T150000_append_messages';

// Frozen in time: raw SQL only, no imports from application code (the imports are the frozen
// migration this one replaces, whose function `down` restores, and the loader of src/sql).
// append_messages is the current src/sql/append_messages.sql, pinned by its sha256. When the
// function changes, this migration gets, inline, the text it ran: packages/db/README.md.

export async function up(db: Kysely<any>): Promise<void> {
  // An unlock level needs both people to take part (docs/design.md, progressive unlock): it opens
  // when the match's total reaches the level's threshold AND each side wrote at least a quarter of
  // it. So the match counts each side's messages: a_message_count (user_a's), b_message_count
  // (user_b's). They are never recomputed from messages later: account deletion nulls sender_id
  // and secret messages are purged, and neither may take back a level that opened.
  //
  // unlocked_level: the highest level the match has announced (`match:unlocked`). The level
  // itself is computed by the application from the counts; this column only lets exactly one
  // send, on any pod, announce each level, by a conditional UPDATE.
  await sql`
    ALTER TABLE matches
      ADD COLUMN a_message_count bigint NOT NULL DEFAULT 0,
      ADD COLUMN b_message_count bigint NOT NULL DEFAULT 0,
      ADD COLUMN unlocked_level smallint NOT NULL DEFAULT 0
  `.execute(db);
  await sql`
    UPDATE matches m SET
      a_message_count = c.from_a,
      b_message_count = c.from_b
    FROM (
      SELECT msg.match_id,
        count(*) FILTER (WHERE msg.sender_id = ma.user_a) AS from_a,
        count(*) FILTER (WHERE msg.sender_id = ma.user_b) AS from_b
      FROM messages msg JOIN matches ma ON ma.id = msg.match_id
      GROUP BY msg.match_id
    ) c
    WHERE m.id = c.match_id
  `.execute(db);
  // What existing matches have reached under the rule as it stands today (thresholds 20, 60, 100,
  // 150; each side a quarter, rounded up): levels reached already are not announced again.
  await sql`
    UPDATE matches SET unlocked_level = CASE
      WHEN message_count >= 150 AND least(a_message_count, b_message_count) >= 38 THEN 4
      WHEN message_count >= 100 AND least(a_message_count, b_message_count) >= 25 THEN 3
      WHEN message_count >= 60 AND least(a_message_count, b_message_count) >= 15 THEN 2
      WHEN message_count >= 20 AND least(a_message_count, b_message_count) >= 5 THEN 1
      ELSE 0 END
  `.execute(db);

  // append_messages as before, now also moving each side's count with its new messages, and
  // answering with each message the match as it stands right after it, so the send path needs no
  // second read for contact masking and the unlock announcement. The return type changes, so the
  // function is dropped first (CREATE OR REPLACE cannot do that).
  await sql`DROP FUNCTION append_messages(bigint[], bigint[], text[], text[], bigint)`.execute(db);
  await sqlFile(
    'append_messages.sql',
    '7a5a6aca16a33e44af20b44cd0bea7d81c5019fbeb15404289385ed2e62830de',
  ).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS append_messages(bigint[], bigint[], text[], text[], bigint)`.execute(
    db,
  );
  await sql`
    ALTER TABLE matches
      DROP COLUMN IF EXISTS a_message_count,
      DROP COLUMN IF EXISTS b_message_count,
      DROP COLUMN IF EXISTS unlocked_level
  `.execute(db);
  await previous.up(db);
}
