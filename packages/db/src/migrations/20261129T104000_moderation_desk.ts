import { sql, type Kysely, type RawBuilder } from 'kysely';
import { sqlFile } from '../sql/sql-file';

// Frozen in time: raw SQL only (the function's file is pinned by its hash), no imports from
// application code. One statement per query
// (PGlite runs queries through the extended protocol).
//
// The moderation desk (docs/design.md §3.12): reports fold repeats and record how they were
// resolved, suspensions and bans live in a small table of their own (so the candidate indexes,
// partial on users, stay as they are), a rejected profile keeps the reason its owner is shown,
// and every moderator action is written to an audit table that a trigger keeps append-only.

async function run(db: Kysely<any>, statements: RawBuilder<unknown>[]): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    sql`ALTER TABLE reports ADD COLUMN repeat_count integer NOT NULL DEFAULT 1`,
    sql`ALTER TABLE reports ADD COLUMN last_reported_at timestamptz NOT NULL DEFAULT now()`,
    sql`
      ALTER TABLE reports ADD COLUMN resolution text
        CONSTRAINT reports_resolution_check CHECK (resolution IN ('dismiss', 'warn', 'suspend', 'ban'))
    `,
    sql`ALTER TABLE reports ADD COLUMN resolved_by bigint`,
    sql`ALTER TABLE reports ADD COLUMN resolved_at timestamptz`,
    // A repeat of an open report (same reporter, reported user and match) is found by this.
    sql`
      CREATE INDEX reports_repeat_idx ON reports (reporter_id, reported_user_id, match_id)
        WHERE status = 'open'
    `,
    // The desk's queue, in filing order (the id's), by status or by reported user.
    sql`CREATE INDEX reports_queue_idx ON reports (status, id)`,
    sql`CREATE INDEX reports_reported_user_idx ON reports (reported_user_id, id)`,
    // A user's current suspension (until set) or ban (until NULL); one row a user, replaced by the
    // next sanction. Few rows: find-match hashes the live ones once per search.
    sql`
      CREATE TABLE account_restrictions (
        user_id bigint PRIMARY KEY,
        kind text NOT NULL CONSTRAINT account_restrictions_kind_check
          CHECK (kind IN ('suspended', 'banned')),
        until timestamptz,
        reason text NOT NULL,
        imposed_by bigint NOT NULL,
        imposed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT account_restrictions_until_check CHECK ((kind = 'banned') = (until IS NULL))
      )
    `,
    sql`ALTER TABLE users ADD COLUMN verification_note text`,
    // The profile review queue, oldest change first.
    sql`
      CREATE INDEX users_review_queue_idx ON users (updated_at, id)
        WHERE verification_status = 'pending' AND deleted_at IS NULL
    `,
    // No foreign keys: users are never removed, and a cascade would be an UPDATE the trigger
    // refuses. The record outlives whatever it names.
    sql`
      CREATE TABLE moderation_actions (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        moderator_id bigint NOT NULL,
        action text NOT NULL CONSTRAINT moderation_actions_action_check
          CHECK (action IN ('dismiss', 'warn', 'suspend', 'ban', 'approve_profile', 'reject_profile')),
        target_user_id bigint,
        report_id bigint,
        reason text NOT NULL,
        until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )
    `,
    sql`CREATE INDEX moderation_actions_target_idx ON moderation_actions (target_user_id, created_at)`,
    // The function's source is src/sql/moderation_actions_append_only.sql, pinned here.
    sqlFile(
      'moderation_actions_append_only.sql',
      '5dd7fb5470be373448511154c0a7e6ea3dc648a3be09efcf8d6941feaf8ef57d',
    ),
    sql`
      CREATE TRIGGER moderation_actions_no_change
        BEFORE UPDATE OR DELETE ON moderation_actions
        FOR EACH ROW EXECUTE FUNCTION moderation_actions_append_only()
    `,
    sql`
      CREATE TRIGGER moderation_actions_no_truncate
        BEFORE TRUNCATE ON moderation_actions
        FOR EACH STATEMENT EXECUTE FUNCTION moderation_actions_append_only()
    `,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [
    sql`DROP TABLE IF EXISTS moderation_actions`,
    sql`DROP FUNCTION IF EXISTS moderation_actions_append_only()`,
    sql`DROP INDEX IF EXISTS users_review_queue_idx`,
    sql`ALTER TABLE users DROP COLUMN IF EXISTS verification_note`,
    sql`DROP TABLE IF EXISTS account_restrictions`,
    sql`DROP INDEX IF EXISTS reports_reported_user_idx`,
    sql`DROP INDEX IF EXISTS reports_queue_idx`,
    sql`DROP INDEX IF EXISTS reports_repeat_idx`,
    sql`ALTER TABLE reports DROP COLUMN IF EXISTS resolved_at`,
    sql`ALTER TABLE reports DROP COLUMN IF EXISTS resolved_by`,
    sql`ALTER TABLE reports DROP COLUMN IF EXISTS resolution`,
    sql`ALTER TABLE reports DROP COLUMN IF EXISTS last_reported_at`,
    sql`ALTER TABLE reports DROP COLUMN IF EXISTS repeat_count`,
  ]);
}
