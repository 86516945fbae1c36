import { openDatabase, type DatabaseHandle } from '@mm/db';
import { testDatabaseUrl } from '@mm/db/testing';
import { sql } from 'kysely';
import { Client } from 'pg';
import { toAppError } from '@mm/core';
import { createLogger } from '../src/logger';
import { connectRedis } from '../src/runtime/redis';
import { closedPort } from '@mm/test-support/http';

const failureOf = (work: Promise<unknown>) =>
  work.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );

/**
 * Failures that mean "PostgreSQL or Redis cannot serve now", produced by the real drivers against
 * real servers, are answered UNAVAILABLE with a wait; anything else stays INTERNAL.
 */
describe('dependency failures as client errors', () => {
  let database: DatabaseHandle;
  const connectionErrors: Error[] = [];

  beforeAll(async () => {
    database = await openDatabase(
      {
        kind: 'postgres',
        url: testDatabaseUrl,
        poolSize: 2,
        timeouts: { statementMs: 200, idleInTransactionMs: 200 },
      },
      { onConnectionError: (error) => connectionErrors.push(error) },
    );
  });

  afterAll(() => database?.close());

  it('when a statement in a transaction runs past the statement timeout, then PostgreSQL cancels it and it is UNAVAILABLE', async () => {
    const error = await failureOf(
      database.db.transaction().execute((trx) => sql`select pg_sleep(5)`.execute(trx)),
    );
    expect(error).toMatchObject({ code: '57014' });
    expect(toAppError(error).toJSON()).toEqual({
      error: expect.objectContaining({ code: 'UNAVAILABLE', details: { retry_after: 2 } }),
    });
  });

  it('when a statement outside a transaction gets no answer in time, then its connection is closed and it is UNAVAILABLE', async () => {
    const error = await failureOf(sql`select pg_sleep(5)`.execute(database.db));
    expect((error as Error).message).toMatch(/no answer from PostgreSQL/);
    expect(toAppError(error).code).toBe('UNAVAILABLE');
    // The pool serves on with a fresh connection.
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows).toEqual([
      { one: 1 },
    ]);
  });

  it('when a transaction idles past its limit, then PostgreSQL ends it, the process survives the dead connection, and it is UNAVAILABLE', async () => {
    const before = connectionErrors.length;
    const error = await failureOf(
      database.db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx);
        // Idle in the transaction well past the 200 ms PostgreSQL allows.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await sql`select 1`.execute(trx);
      }),
    );
    expect(toAppError(error).code).toBe('UNAVAILABLE');
    expect(connectionErrors.length).toBe(before + 1); // reported once, though pg emits twice
    expect((await sql<{ one: number }>`select 1 as one`.execute(database.db)).rows).toEqual([
      { one: 1 },
    ]);
  });

  it('when PostgreSQL refuses connections, then it is UNAVAILABLE', async () => {
    const client = new Client({ host: '127.0.0.1', port: await closedPort(), user: 'postgres' });
    const error = await failureOf(client.connect());
    expect(toAppError(error).code).toBe('UNAVAILABLE');
  });

  it('when Redis cannot be reached, then a command fails within the command timeout and is UNAVAILABLE', async () => {
    const redis = connectRedis(
      {
        url: `redis://127.0.0.1:${await closedPort()}`,
        timeouts: { connectMs: 200, commandMs: 300 },
      },
      'test',
      createLogger({ level: 'silent', name: 'test' }),
    );
    try {
      const error = await failureOf(redis.incr('x'));
      expect(toAppError(error).code).toBe('UNAVAILABLE');
    } finally {
      redis.disconnect();
    }
  });

  it('when an error says nothing of a dependency, then it stays INTERNAL', () => {
    expect(toAppError(new Error('Connection between us is over')).code).toBe('INTERNAL');
    expect(toAppError(Object.assign(new Error('dup'), { code: '23505' })).code).toBe('INTERNAL');
  });
});
