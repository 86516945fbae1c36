import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { sendMessage, type ChatSocket } from '@mm/client';
import type { MessageView } from '@mm/contract';
import { createTestRole, testDatabaseUrl, type TestSchema } from '@mm/db/testing';
import { connect, createUser, freshUserId, nextEvent } from '@mm/test-support/chat';
import { eventually } from '@mm/test-support/http';
import { PgBouncer } from '@mm/test-support/pgbouncer';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { scaledEnv } from '@mm/test-support/realtime';

const ROOT = path.resolve(__dirname, '../..');
/** Server connections PgBouncer opens for the whole system: fewer than one process's pool. */
const SERVER_POOL = 4;
const POD_POOL = 5;

/**
 * The scaled system (one API, two gateways: real processes) on PostgreSQL only through PgBouncer in
 * transaction mode, as k8s/base deploys it: 3 × 5 client connections on 4 server connections. The
 * schema is migrated by `npm run db:migrate` through PgBouncer too, as the migration Job does.
 */
describe('the scaled system through PgBouncer in transaction mode', () => {
  let test: TestSchema;
  let bouncer: PgBouncer;
  let api: RunningProcess;
  let gatewayA: RunningProcess;
  let gatewayB: RunningProcess;
  let migrateOutput: string;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    test = await createTestRole('pgbouncer_scaled');
    bouncer = await PgBouncer.start({ roles: [test], poolSize: SERVER_POOL });
    const env = scaledEnv({ ...test, url: bouncer.url(test) }, 'pgbouncer', {
      DATABASE_POOL_SIZE: String(POD_POOL),
    });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'packages/db/src/migrate.cli.ts'],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
    );
    migrateOutput = stdout;
    [api, gatewayA, gatewayB] = await Promise.all([
      startApp('api', env),
      startApp('gateway', { ...env, GATEWAY_DRAIN_WINDOW_SECONDS: '0' }),
      startApp('gateway', { ...env, GATEWAY_DRAIN_WINDOW_SECONDS: '0' }),
    ]);
  }, 90_000);

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    const codes = await Promise.all([api, gatewayA, gatewayB].map((p) => p?.stop()));
    await bouncer?.stop();
    await test?.drop();
    expect(codes).toEqual([0, 0, 0]);
  });

  /** The role's connections on the PostgreSQL server itself (not through PgBouncer). */
  async function serverConnections(): Promise<number> {
    const client = new Client({ connectionString: testDatabaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1',
        [test.role],
      );
      return rows[0]!.n;
    } finally {
      await client.end();
    }
  }

  it('when the migration CLI runs through PgBouncer, then it applies every migration', () => {
    expect(migrateOutput).toMatch(/^Success: /m);
    expect(migrateOutput).not.toMatch(/^Error/m);
  });

  it('when three pairs find a match and chat on two gateways at once, then every message is stored and delivered gaplessly, on at most the server pool', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 3 }, async (_, pair) => {
        const city = `Pool City ${pair}`;
        const [ann, bob] = await Promise.all([
          createUser(api.url, freshUserId(), 'Ann'),
          createUser(api.url, freshUserId(), 'Bob'),
        ]);
        await Promise.all([
          ann.rest.saveProfile({ display_name: 'Ann', city }),
          bob.rest.saveProfile({ display_name: 'Bob', city }),
        ]);
        const annSocket = await connect(gatewayA.url, ann);
        const bobSocket = await connect(gatewayB.url, bob);
        sockets.push(annSocket, bobSocket);
        const bobHears = nextEvent(bobSocket, 'match:new');
        const match = await ann.rest.findMatch(ann.id, { city });
        // find-match paired them (each pair has a city of its own) and told Bob on the other pod.
        expect(match.partner_id).toBe(bob.id);
        await bobHears;
        return { ann, bob, annSocket, bobSocket, matchId: match.id };
      }),
    );
    const received = pairs.map(({ annSocket }) => {
      const got: MessageView[] = [];
      annSocket.on('message:new', (message) => got.push(message as MessageView));
      return got;
    });

    const PER_SIDE = 20;
    const acked = await Promise.all(
      pairs.map(({ annSocket, bobSocket, matchId }) =>
        Promise.all(
          Array.from({ length: 2 * PER_SIDE }, (_, i) =>
            sendMessage(i % 2 ? bobSocket : annSocket, {
              match_id: matchId,
              client_id: `m-${i}`,
              body: `message ${i}`,
            }),
          ),
        ),
      ),
    );

    const gapless = Array.from({ length: 2 * PER_SIDE }, (_, i) => i + 1);
    for (const [index, { ann, matchId }] of pairs.entries()) {
      expect(acked[index]!.map((m) => m.seq).sort((a, b) => a - b)).toEqual(gapless);
      const page = await ann.rest.history(matchId, { limit: 100 });
      expect(page.messages.map((m) => m.seq).sort((a, b) => a - b)).toEqual(gapless);
      // Bob's messages reached Ann's socket on the other gateway.
      await eventually(
        async () => received[index]!.filter((m) => m.match_id === matchId).length,
        (n) => n >= PER_SIDE,
      );
    }
    expect(await serverConnections()).toBeLessThanOrEqual(SERVER_POOL);
  }, 60_000);
});
