import { sql, type Kysely, type RawBuilder } from 'kysely';

// Frozen in time: raw SQL only, no imports from application code. One statement per query
// (PGlite runs queries through the extended protocol).

async function run(db: Kysely<any>, statements: RawBuilder<unknown>[]): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    // Ids for identity-provider subjects that are not user ids themselves. They start at 2^50, so
    // they never meet an id that a numeric subject names (those must stay below 2^50).
    sql`
      CREATE SEQUENCE external_user_ids AS bigint
        START WITH 1125899906842624 MINVALUE 1125899906842624 MAXVALUE 9007199254740991
    `,
    // A subject of an issuer, mapped to an internal user id on first sight and never again
    // changed. No foreign key: the users row is made later, by the first profile save.
    sql`
      CREATE TABLE external_identities (
        issuer text NOT NULL,
        subject text NOT NULL,
        user_id bigint NOT NULL DEFAULT nextval('external_user_ids')
          CONSTRAINT external_identities_user_id_key UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (issuer, subject)
      )
    `,
    // Entitlement webhook deliveries already applied: a second delivery of one event id (a
    // replay, or a retry of one that went through) is refused by the key.
    sql`
      CREATE TABLE entitlement_events (
        event_id text PRIMARY KEY,
        user_id bigint NOT NULL,
        premium_until timestamptz,
        received_at timestamptz NOT NULL DEFAULT now()
      )
    `,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS entitlement_events`.execute(db);
  await sql`DROP TABLE IF EXISTS external_identities`.execute(db);
  await sql`DROP SEQUENCE IF EXISTS external_user_ids`.execute(db);
}
