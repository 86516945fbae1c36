import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, DatabaseHandle, NewUser } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';
import type { Redis } from 'ioredis';
import { defaultDomainRules, type DomainRules } from '../../src/rules';
import type { RoomBroadcaster, RoomOperator } from '../../src/realtime/realtime';
import { createServices, type Services } from '../../src/services';

export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const uniquePrefix = (label: string) => `mmtest:${label}:${randomBytes(4).toString('hex')}`;

/** One thing the domain asked the realtime layer to do. */
export interface Broadcast {
  rooms: string[];
  kind: 'emit' | 'join' | 'leave' | 'disconnect';
  event?: string;
  payload?: unknown;
  /** The room joined or left. */
  target?: string;
}

/**
 * The realtime port as a record of what was asked of it: the domain tests check the side effects
 * the domain chose; the system tests check that real sockets on real gateways receive them.
 */
export class RecordingBroadcaster implements RoomBroadcaster {
  readonly log: Broadcast[] = [];

  to(room: string | string[]): RoomOperator {
    const rooms = [room].flat();
    const operator: RoomOperator = {
      except: () => operator,
      emit: (event: string, payload: unknown) =>
        this.log.push({ rooms, kind: 'emit', event, payload }),
      socketsJoin: (target) => void this.log.push({ rooms, kind: 'join', target: String(target) }),
      socketsLeave: (target) =>
        void this.log.push({ rooms, kind: 'leave', target: String(target) }),
      disconnectSockets: () => void this.log.push({ rooms, kind: 'disconnect' }),
    };
    return operator;
  }

  events(event: string): Broadcast[] {
    return this.log.filter((entry) => entry.event === event);
  }
}

export interface Domain {
  schema: TestSchema;
  database: DatabaseHandle;
  services: Services;
  broadcaster: RecordingBroadcaster;
  /** Another set of services on its own pool: a second pod. */
  pod(overrides?: Partial<DomainOptions>): Promise<{ services: Services; close(): Promise<void> }>;
  close(): Promise<void>;
}

export interface DomainOptions {
  rules: Partial<DomainRules>;
  redis?: Redis;
  keyPrefix?: string;
}

function build(
  database: DatabaseHandle,
  options: Partial<DomainOptions>,
  broadcaster: RoomBroadcaster,
) {
  return createServices({
    db: database.db,
    broadcaster,
    jwtSecret: 'a-test-secret-that-is-long-enough-for-hs256',
    rules: { ...defaultDomainRules(), ...options.rules },
    keyPrefix: options.keyPrefix ?? uniquePrefix('domain'),
    ...(options.redis && { redis: options.redis }),
  });
}

/** The domain services over a fresh Postgres schema of their own. */
export async function openDomain(
  label: string,
  options: Partial<DomainOptions> = {},
): Promise<Domain> {
  const schema = await createTestSchema(label);
  const database = await openTestDatabase(schema, 10);
  const broadcaster = new RecordingBroadcaster();
  const pods: DatabaseHandle[] = [];
  return {
    schema,
    database,
    broadcaster,
    services: build(database, options, broadcaster),
    async pod(overrides = {}) {
      const handle = await openTestDatabase(schema, 10);
      pods.push(handle);
      return {
        services: build(handle, { ...options, ...overrides }, broadcaster),
        close: () => handle.close(),
      };
    },
    async close() {
      await Promise.all(pods.map((pod) => pod.close().catch(() => undefined)));
      await database.close();
      await schema.drop();
    },
  };
}

let nextId = 1;
/** Inserts an approved, recently active user; fields override. */
export async function newUser(
  database: DatabaseHandle,
  fields: Partial<NewUser> = {},
): Promise<number> {
  const id = fields.id ?? nextId++;
  await database.db
    .insertInto('users')
    .values({ display_name: `user ${id}`, verification_status: 'approved', ...fields, id })
    .execute();
  return id;
}

/** Stores an uploaded photo for the user, as the upload would (placeholder bytes). */
export async function uploadPhoto(database: DatabaseHandle, userId: number): Promise<void> {
  await database.db
    .insertInto('user_photos')
    .values({
      user_id: userId,
      content_type: 'image/webp',
      clear: Buffer.from('clear'),
      blur_50: Buffer.from('blur 50'),
      blur_25: Buffer.from('blur 25'),
      width: 1,
      height: 1,
    })
    .execute();
}

/** Moves a match's expiry (into the past, say) as if time had passed. */
export async function setExpiry(
  database: DatabaseHandle,
  matchId: number,
  at: Date,
): Promise<void> {
  await database.db
    .updateTable('matches')
    .set({ expires_at: at })
    .where('id', '=', matchId)
    .execute();
}

/** A birth date `years` ago (UTC), minus `days` more. */
export function bornYearsAgo(years: number, days = 0): string {
  const now = new Date();
  const date = new Date(
    Date.UTC(now.getUTCFullYear() - years, now.getUTCMonth(), now.getUTCDate() - days),
  );
  return date.toISOString().slice(0, 10);
}

export const countRows = async (database: DatabaseHandle, query: string): Promise<number> => {
  const { rows } = await sql<{ n: number }>`${sql.raw(query)}`.execute(database.db);
  return Number(rows[0]!.n);
};

/** Inserts a match between `a` and `b` (a < b) expiring in an hour; fields override. */
export async function insertMatch(
  db: Kysely<Database>,
  a: number,
  b: number,
  fields: Record<string, unknown> = {},
): Promise<number> {
  const row = await db
    .insertInto('matches')
    .values({
      user_a: a,
      user_b: b,
      created_by: a,
      expires_at: new Date(Date.now() + 3_600_000),
      ...fields,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
