import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';
import { HealthChecks } from '../src/observability/health';
import { Metrics } from '../src/observability/metrics';

/** Logs collected as parsed JSON lines. */
function captureLogs(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** How many queries of a kind and outcome the histogram has seen. */
async function queries(metrics: Metrics, kind: string, outcome: string): Promise<number> {
  const { values } = await metrics.dbQueryDuration.get();
  const count = values.find(
    (v) =>
      v.metricName === 'mm_db_query_duration_seconds_count' &&
      v.labels.kind === kind &&
      v.labels.outcome === outcome,
  );
  return count?.value ?? 0;
}

describe('query metrics and the slow-query log', () => {
  let schema: TestSchema;
  let handle: DatabaseHandle;
  const metrics = new Metrics('test');
  const { logger, lines } = captureLogs();

  beforeAll(async () => {
    schema = await createTestSchema('observability');
    handle = await openDatabase(
      { kind: 'postgres', url: schema.url, poolSize: 2 },
      { onQuery: metrics.queryObserver(logger, 20) },
    );
    metrics.observePool(handle.pool);
  });

  afterAll(async () => {
    await handle?.close();
    await schema?.drop();
  });

  it('when a query is slower than the threshold, then it is logged with its SQL and never its parameters', async () => {
    await sql`select pg_sleep(0.1), ${'private words'}::text as body`.execute(handle.db);
    await handle.db.selectFrom('users').select('id').where('id', '=', 1).execute();

    const slow = lines.filter((line) => line.msg === 'slow query');
    const sleeper = slow.filter((line) => String(line.sql).includes('pg_sleep'));
    expect(sleeper).toEqual([
      expect.objectContaining({ level: 40, duration_ms: expect.any(Number) }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('private words');

    expect(await queries(metrics, 'raw', 'ok')).toBe(1);
    expect(await queries(metrics, 'select', 'ok')).toBe(1);
    expect(metrics.poolCounts().total).toBeGreaterThan(0);
    expect(await metrics.registry.metrics()).toMatch(
      /^mm_db_pool_connections\{state="total",app="test"\} [12]$/m,
    );
  });

  it('when a query fails, then it is counted as an error', async () => {
    await expect(sql`select * from no_such_table`.execute(handle.db)).rejects.toThrow();
    expect(await queries(metrics, 'raw', 'error')).toBe(1);
  });
});

describe('readiness against a database that does not answer', () => {
  let silent: Server;
  const held: Socket[] = [];
  let handle: DatabaseHandle;

  beforeAll(async () => {
    // Accepts connections and never says a word: a Postgres behind a network partition.
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    handle = await openDatabase({
      kind: 'postgres',
      url: `postgres://postgres@127.0.0.1:${port}/test`,
      poolSize: 1,
    });
  });

  afterAll(async () => {
    held.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
    await handle.close().catch(() => undefined);
  });

  it('when Postgres hangs, then readiness reports it down instead of hanging, and liveness holds', async () => {
    const health = new HealthChecks({ db: handle.db, checkTimeoutMs: 300 });
    try {
      expect(await health.ready()).toEqual({
        ready: false,
        status: 'unavailable',
        checks: { postgres: 'down' },
      });
      expect(health.live()).toEqual({ status: 'ok' });
    } finally {
      health.close();
    }
  });
});

describe('readiness with a healthy database', () => {
  let schema: TestSchema;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    schema = await createTestSchema('observability_ready');
    handle = await openTestDatabase(schema, 2);
  });

  afterAll(async () => {
    await handle?.close();
    await schema?.drop();
  });

  it('when draining starts, then readiness turns false although every dependency answers', async () => {
    let draining = false;
    const health = new HealthChecks({ db: handle.db, isDraining: () => draining });
    try {
      expect(await health.ready()).toMatchObject({ ready: true, checks: { postgres: 'ok' } });
      draining = true;
      expect(await health.ready()).toEqual({
        ready: false,
        status: 'draining',
        checks: { postgres: 'ok' },
      });
      expect((await health.report()).status).toBe('draining');
    } finally {
      health.close();
    }
  });
});
