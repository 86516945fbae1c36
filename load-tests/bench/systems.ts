import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { TokenService } from '@mm/core';
import {
  createTestSchema,
  openTestDatabase,
  seedMatchedPairs,
  type TestSchema,
} from '@mm/db/testing';
import {
  startApp,
  startScript,
  testRedisUrl,
  uniqueRedisPrefix,
  type RunningProcess,
} from '@mm/test-support/processes';
import type { Participant } from './chat-load';
import type { CpuUse } from './stats';

const JWT_SECRET = 'bench-secret-that-is-long-enough-for-hs256';

/**
 * How long a started process may take to listen. Loading TypeScript through tsx on a shared
 * machine under load took over 20 s (a smoke run failed so); a start is not what the bench times.
 */
export const START_TIMEOUT_MS = 60_000;

/** How rooms cross the gateways (`REDIS_ADAPTER`); the relays use the classic adapter. */
export type AdapterMode = 'sharded' | 'classic';

export interface StartedSystem {
  name: 'mystery-match' | 'bare relay' | 'naive relay';
  adapter: AdapterMode;
  gateways: RunningProcess[];
  api?: RunningProcess;
  schema?: TestSchema;
  /**
   * Participants of `pairs` chat pairs, the two sides of a pair always on two different gateways:
   * pair k on the k-th of `gatewayPairs` in turn (with 2 gateways, side A on 0 and side B on 1).
   */
  participants(pairs: number): Promise<[Participant, Participant][]>;
  /** What an idle socket of this user sends in its handshake. */
  idleAuth(userId: number): Record<string, unknown>;
  stop(): Promise<void>;
}

/** The scaled system's environment on a schema: quiet, and without the per-user abuse limits. */
export function scaledSystemEnv(schema: TestSchema): Record<string, string> {
  return {
    DATABASE_URL: schema.url,
    DATABASE_SCHEMA: schema.schema,
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: uniqueRedisPrefix('bench'),
    JWT_SECRET,
    LOG_LEVEL: 'warn',
    // The bench measures throughput, not the per-user abuse limit.
    MESSAGE_RATE_LIMIT: '1000000',
    // All its clients come from 127.0.0.1; the REST limits are not what it measures either.
    HTTP_RATE_LIMIT_PER_IP: '0',
    HTTP_RATE_LIMIT_PER_USER: '0',
    HANDSHAKE_RATE_LIMIT_PER_IP: '0',
  };
}

/** Every two distinct gateways `[i, j]`, i < j: where chat pairs sit, one after the other. */
export function gatewayPairs(gateways: number): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < gateways; i++) for (let j = i + 1; j < gateways; j++) pairs.push([i, j]);
  return pairs;
}

/**
 * The scaled system as operators run it: 1 api and `gateways` gateway processes (2 unless told),
 * Postgres and Redis, rooms shared through the `adapter` given (`REDIS_ADAPTER`, set explicitly so
 * that the result says what ran whatever the bench's own environment holds). `env` is added to
 * every process's.
 */
export async function startScaledSystem({
  gateways: gatewayCount = 2,
  adapter = 'sharded',
  env: extraEnv = {},
}: {
  gateways?: number;
  adapter?: AdapterMode;
  env?: Record<string, string>;
} = {}): Promise<StartedSystem> {
  const schema = await createTestSchema('bench');
  // Listening is logged at info; the bench wants quiet processes otherwise.
  const env = {
    ...scaledSystemEnv(schema),
    REDIS_ADAPTER: adapter,
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const [api, ...gateways] = await Promise.all([
    startApp('api', env, START_TIMEOUT_MS, nodeArgs),
    ...Array.from({ length: gatewayCount }, () =>
      startApp('gateway', env, START_TIMEOUT_MS, nodeArgs),
    ),
  ]);
  const tokens = new TokenService(JWT_SECRET);
  const spread = gatewayPairs(gateways.length);
  return {
    name: 'mystery-match',
    adapter,
    api,
    gateways,
    schema,
    async participants(pairs) {
      const handle = await openTestDatabase(schema, 2);
      try {
        const base = await seedPairs(handle.db, pairs);
        return base.map(({ a, b, matchId }, k) => {
          const [onA, onB] = spread[k % spread.length]!;
          return [
            { userId: a, matchId, gatewayUrl: gateways[onA]!.url, auth: { token: tokens.sign(a) } },
            { userId: b, matchId, gatewayUrl: gateways[onB]!.url, auth: { token: tokens.sign(b) } },
          ];
        });
      } finally {
        await handle.close();
      }
    },
    idleAuth: (userId) => ({ token: tokens.sign(userId) }),
    async stop() {
      await Promise.all([api, ...gateways].map((p) => p.stop()));
      await schema.drop();
    },
  };
}

/**
 * Node flags of every started process. By default the one production uses (see the Dockerfile):
 * V8's collector on the main thread only. Its helper threads, sized by the host's cores, cost
 * more than they save where cores are shared: on this machine they took about 40 % more CPU per
 * message, ours and the relay's alike. `BENCH_NODE_ARGS=` (empty) measures V8's default.
 * BENCH_CPU_PROF=<dir> adds a V8 CPU profile of each process, written to <dir> when it stops.
 */
const profileDir = process.env.BENCH_CPU_PROF;
export const nodeArgs = [
  ...(process.env.BENCH_NODE_ARGS ?? '--single-threaded-gc').split(' ').filter(Boolean),
  ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : []),
];

/**
 * The ceiling: the same two-process topology on the classic Redis adapter, relaying without
 * persistence. With every pair across the two processes, both read every match room's broadcast
 * under either adapter; only the user rooms differ.
 */
export function startBareRelay(): Promise<StartedSystem> {
  return startRelays('bare relay', {});
}

/**
 * What a team writes first: the bare relay storing each message with one INSERT before its ack,
 * in a schema of its own (relay.ts, RELAY_STORE=postgres).
 */
export async function startNaiveRelay(): Promise<StartedSystem> {
  const schema = await createTestSchema('bench_naive');
  const handle = await openTestDatabase(schema, 1);
  try {
    await sql`CREATE TABLE naive_messages (
      id bigserial PRIMARY KEY,
      match_id int NOT NULL,
      sender_id int NOT NULL,
      client_id text NOT NULL UNIQUE,
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`.execute(handle.db);
  } finally {
    await handle.close();
  }
  const system = await startRelays('naive relay', {
    RELAY_STORE: 'postgres',
    DATABASE_URL: schema.url,
    DATABASE_SCHEMA: schema.schema,
  });
  return {
    ...system,
    schema,
    async stop() {
      await system.stop();
      await schema.drop();
    },
  };
}

async function startRelays(
  name: 'bare relay' | 'naive relay',
  extraEnv: Record<string, string>,
): Promise<StartedSystem> {
  const env = { REDIS_URL: testRedisUrl, REDIS_PREFIX: uniqueRedisPrefix('relay'), ...extraEnv };
  const entry = path.join(__dirname, 'relay.ts');
  const gateways = await Promise.all([
    startScript('relay', entry, env, START_TIMEOUT_MS, nodeArgs),
    startScript('relay', entry, env, START_TIMEOUT_MS, nodeArgs),
  ]);
  return {
    name,
    adapter: 'classic', // relay.ts: `createAdapter`, every process reads every room
    gateways,
    async participants(pairs) {
      return Array.from({ length: pairs }, (_, i) => {
        const a = 2 * i + 1;
        const matchId = i + 1;
        return [
          {
            userId: a,
            matchId,
            gatewayUrl: gateways[0]!.url,
            auth: { user_id: a, match_ids: [matchId] },
          },
          {
            userId: a + 1,
            matchId,
            gatewayUrl: gateways[1]!.url,
            auth: { user_id: a + 1, match_ids: [matchId] },
          },
        ];
      });
    },
    idleAuth: (userId) => ({ user_id: userId, match_ids: [] }),
    async stop() {
      await Promise.all(gateways.map((p) => p.stop()));
    },
  };
}

type Db = Awaited<ReturnType<typeof openTestDatabase>>['db'];

/** Users 2i-1 and 2i, matched to each other, inserted in bulk (the bench measures chat, not signup). */
async function seedPairs(
  db: Db,
  pairs: number,
): Promise<{ a: number; b: number; matchId: number }[]> {
  const seeded = await seedMatchedPairs(db, pairs);
  return seeded.map(({ userA, userB, matchId }) => ({ a: userA, b: userB, matchId }));
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/**
 * CPU time a process has used so far (user + system), in ms, with that of its children that have
 * exited: PostgreSQL's postmaster reaps every backend that closes, and the others have none.
 */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime
    // 15th, cutime 16th, cstime 17th.
    const [utime, stime, cutime, cstime] = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 15)
      .map(Number);
    return ((utime! + stime! + cutime! + cstime!) * 1000) / TICKS_PER_S;
  } catch {
    return 0; // gone meanwhile
  }
}

/** Every process whose command is one of `names` (PostgreSQL backends, redis-server). */
function pidsNamed(names: string[]): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return names.includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      } catch {
        return false;
      }
    });
}

/**
 * CPU ms used so far by the system's processes, PostgreSQL and Redis. The load generator, a
 * process of its own, measures its own (load-generator.ts).
 */
export function cpuUse(system: StartedSystem): CpuUse {
  const sum = (pids: number[]) => pids.reduce((total, pid) => total + cpuMsOf(pid), 0);
  const own = [system.api, ...system.gateways].flatMap((p) => (p?.child.pid ? [p.child.pid] : []));
  return {
    app: sum(own),
    postgres: sum(pidsNamed(['postgres'])),
    redis: sum(pidsNamed(['redis-server'])),
  };
}

/** Resident set size of a process, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb * 1024;
}

/** Fills one match with `depth` messages, for history paging at depth. */
export async function seedDeepHistory(
  schema: TestSchema,
  depth: number,
): Promise<{ matchId: number; userId: number }> {
  const handle = await openTestDatabase(schema, 2);
  try {
    const { rows } = await sql<{ id: number }>`
      INSERT INTO users (id, display_name) VALUES (900000001, 'deep a'), (900000002, 'deep b');
    `
      .execute(handle.db)
      .then(() =>
        sql<{
          id: number;
        }>`INSERT INTO matches (user_a, user_b, created_by, expires_at, message_count)
        VALUES (900000001, 900000002, 900000001, now() + interval '2 days', ${depth}) RETURNING id`.execute(
          handle.db,
        ),
      );
    const matchId = rows[0]!.id;
    await sql`INSERT INTO messages (match_id, seq, sender_id, client_id, body)
              SELECT ${matchId}, g, 900000001 + (g % 2), 'deep-' || g, 'message number ' || g
              FROM generate_series(1, ${depth}::int) AS g`.execute(handle.db);
    await sql`ANALYZE messages`.execute(handle.db);
    return { matchId, userId: 900000001 };
  } finally {
    await handle.close();
  }
}

export { JWT_SECRET };
