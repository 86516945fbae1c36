import { sql } from 'kysely';
import { Client } from 'pg';
import { migrateToLatest, type DatabaseHandle } from '@mm/db';
import { createTestRole, openTestDatabase, testDatabaseUrl, type TestSchema } from '@mm/db/testing';
import { PgBouncer } from '@mm/test-support/pgbouncer';
import { AppError } from '../src/errors';
import { defaultDomainRules } from '../src/rules';
import { createServices, type Services } from '../src/services';
import { newUser, RecordingBroadcaster, uniquePrefix } from './support/domain';

/** Server connections PgBouncer may open for this file's role: far fewer than the pods' pools. */
const SERVER_POOL = 3;
const POD_POOL = 10;

/**
 * The domain through PgBouncer in transaction mode, as production runs it (k8s/README.md): each
 * transaction may run on another server connection, so nothing may rely on session state.
 * Migrations, append_messages, find-match's row locks and the test isolation (a role whose
 * search_path is the schema) all go through it.
 */
describe('the domain through PgBouncer in transaction mode', () => {
  let test: TestSchema;
  let bouncer: PgBouncer;
  const handles: DatabaseHandle[] = [];
  const pods: Services[] = [];
  let firstMigration: string[];
  let secondMigration: string[];

  /** Runs a query on the real server as the superuser (not through PgBouncer). */
  async function onServer<T>(query: string, values: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      return (await client.query(query, values)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const serverConnections = async () =>
    (
      await onServer<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1',
        [test.role],
      )
    )[0]!.n;

  beforeAll(async () => {
    test = await createTestRole('pgbouncer');
    bouncer = await PgBouncer.start({ roles: [test], poolSize: SERVER_POOL });
    // Migrated through PgBouncer, twice: the second run must find the lock free and nothing to do.
    const migration = await openTestDatabase(test, 2, { url: bouncer.url(test) });
    try {
      firstMigration = (await migrateToLatest(migration.db, test.schema)).map((r) => r.status);
      secondMigration = (await migrateToLatest(migration.db, test.schema)).map((r) => r.status);
    } finally {
      await migration.close();
    }
    for (let pod = 0; pod < 2; pod++) {
      const handle = await openTestDatabase(test, POD_POOL, { url: bouncer.url(test) });
      handles.push(handle);
      pods.push(
        createServices({
          db: handle.db,
          broadcaster: new RecordingBroadcaster(),
          jwtSecret: 'a-test-secret-that-is-long-enough-for-hs256',
          rules: { ...defaultDomainRules(), messageRate: { points: 100_000, windowSeconds: 60 } },
          keyPrefix: uniquePrefix('pgbouncer'),
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.close()));
    await bouncer?.stop();
    await test?.drop();
  });

  it('when a client sends the options startup parameter, then PgBouncer refuses it (why the schema is the role’s)', async () => {
    const client = new Client({
      connectionString: bouncer.url(test),
      options: `-c search_path=${test.schema}`,
    });
    client.on('error', () => undefined);
    await expect(client.connect()).rejects.toThrow(/unsupported startup parameter/i);
    await client.end().catch(() => undefined);
  });

  it('when migrated through it, then every migration ran once, in the role’s schema, and the migration lock is free again', async () => {
    expect(firstMigration.length).toBeGreaterThan(0);
    expect(firstMigration.every((status) => status === 'Success')).toBe(true);
    expect(secondMigration).toEqual([]);
    const tables = await onServer<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename = 'messages'`,
      [test.schema],
    );
    expect(tables[0]!.n).toBe(1);
    const held = await onServer<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND a.usename = $1`,
      [test.role],
    );
    expect(held[0]!.n).toBe(0);
  });

  it('when two pods send 80 messages into one match at once, then append_messages stores seqs 1..80 without a gap, on at most the server pool’s connections', async () => {
    const city = 'Bouncer City';
    const [ann, bob] = [await newUser(handles[0]!, { city }), await newUser(handles[0]!, { city })];
    const match = await pods[0]!.matches.findMatch(ann, { user_id: ann, city });
    expect(match.partner_id).toBe(bob);

    const sends = Array.from({ length: 80 }, (_, i) =>
      pods[i % 2]!.messages.send(i % 4 < 2 ? ann : bob, {
        match_id: match.id,
        client_id: `c${i}`,
        body: `message ${i}`,
      }),
    );
    const results = await Promise.all(sends);

    expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 80 }, (_, i) => i + 1),
    );
    const stored = await handles[1]!.db
      .selectFrom('messages')
      .select('seq')
      .where('match_id', '=', match.id)
      .orderBy('seq')
      .execute();
    expect(stored.map((row) => row.seq)).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    expect(await serverConnections()).toBeLessThanOrEqual(SERVER_POOL);
  });

  it('when both pods’ whole pools (20 client connections) query at once, then they share the server pool’s 3 connections', async () => {
    const clients = await Promise.all(
      handles.flatMap((handle) => Array.from({ length: POD_POOL }, () => handle.pool!.connect())),
    );
    try {
      const answers = await Promise.all(
        clients.map((client) =>
          client.query<{ schema: string }>('SELECT current_schema() AS schema'),
        ),
      );
      expect(answers.map((answer) => answer.rows[0]!.schema)).toEqual(
        clients.map(() => test.schema),
      );
      expect(await serverConnections()).toBeLessThanOrEqual(SERVER_POOL);
    } finally {
      clients.forEach((client) => client.release());
    }
  });

  it('when one user calls find-match 12 times at once on two pods, then the row locks let exactly the daily limit of matches through', async () => {
    const city = 'Rush City';
    const me = await newUser(handles[0]!, { city });
    for (let i = 0; i < 12; i++) await newUser(handles[0]!, { city });

    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        pods[i % 2]!.matches.findMatch(me, { user_id: me, city }).then(
          () => 'created',
          (error: unknown) => (error instanceof AppError ? error.code : String(error)),
        ),
      ),
    );

    const limit = defaultDomainRules().dailyMatchLimit;
    expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(limit);
    expect(outcomes.filter((outcome) => outcome !== 'created')).toEqual(
      Array(12 - limit).fill('DAILY_LIMIT_REACHED'),
    );
    const rows = await handles[1]!.db
      .selectFrom('matches')
      .select(['user_a', 'user_b'])
      .where('created_by', '=', me)
      .execute();
    expect(new Set(rows.map((r) => `${r.user_a}:${r.user_b}`)).size).toBe(limit);
    expect(await serverConnections()).toBeLessThanOrEqual(SERVER_POOL);
  });

  it('when the role’s session runs a statement outside a transaction, then it still lands in the schema', async () => {
    const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(
      handles[0]!.db,
    );
    expect(rows[0]!.schema).toBe(test.schema);
  });
});
