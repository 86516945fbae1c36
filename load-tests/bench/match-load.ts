// `npm run bench:match`: find-match on the scaled system's API process (real PostgreSQL and Redis)
// with 100,000 profiled users, at fixed rising rates. Every caller searches among the same most
// recently active users, so they compete for the same top candidates and their row locks. Results
// go to load-tests/results/ as JSON and to stdout.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { TokenService } from '@mm/core';
import { createTestSchema, openTestDatabase, seedProfiles } from '@mm/db/testing';
import {
  startApp,
  testRedisUrl,
  uniqueRedisPrefix,
  type RunningProcess,
} from '@mm/test-support/processes';
import { watchDatabase } from './database-load';
import { round, summarize, type LatencySummary } from './stats';
import { cpuUse, JWT_SECRET, nodeArgs, type StartedSystem } from './systems';

const env = process.env;
const settings = {
  users: Number(env.BENCH_MATCH_USERS ?? 100_000),
  /** Premium (no daily limit), so every request goes through the whole pairing. */
  callers: Number(env.BENCH_MATCH_CALLERS ?? 5_000),
  seconds: Number(env.BENCH_SECONDS ?? 10),
  warmupSeconds: Number(env.BENCH_WARMUP_SECONDS ?? 20),
  rates: (env.BENCH_MATCH_RATES ?? '25,50,100,200,300,400,500').split(',').map(Number),
  targetP99Ms: Number(env.BENCH_TARGET_P99_MS ?? 50),
  /** A step this slow at p99 ends the ladder: the next would only queue more. */
  giveUpP99Ms: Number(env.BENCH_GIVE_UP_P99_MS ?? 2_000),
};

/**
 * The filters callers send, in turn. All of them reach the same most recently active women (and,
 * without a gender, the other callers, whose searches keep them the most recently active).
 */
const FILTERS: Record<string, unknown>[] = [
  { gender: 'female' },
  { gender: 'female', city: 'city 0' },
  {},
  { min_age: 25, max_age: 55 },
];

interface StepResult {
  rate_per_s: number;
  sent: number;
  matched: number;
  /** Any answer but 201, or no answer within 10 s of silence, by status (0: none). */
  errors: number;
  errors_by_status: Record<string, number>;
  latency: LatencySummary;
  /** One-minute load average when the step ended: the machine is shared. */
  load_average_1m: number;
  cpu_ms_per_request: {
    api: number;
    /** Every `postgres` process on the machine: other users of a shared server count too. */
    postgres: number;
    /** Only the API's own backends (found by application name): what a shared server leaves out. */
    postgres_api_backends: number;
    redis: number;
    load_generator: number;
  };
}

async function main() {
  const schema = await createTestSchema('bench_match');
  let api: RunningProcess | undefined;
  const applicationName = `mm-bench-match-${process.pid}`;
  try {
    const callers = await seed(schema);
    api = await startApp(
      'api',
      {
        DATABASE_URL: schema.url,
        DATABASE_SCHEMA: schema.schema,
        REDIS_URL: testRedisUrl,
        REDIS_PREFIX: uniqueRedisPrefix('bench_match'),
        JWT_SECRET,
        LOG_LEVEL: 'info',
        // All requests come from 127.0.0.1; the REST limits are not what this measures.
        HTTP_RATE_LIMIT_PER_IP: '0',
        HTTP_RATE_LIMIT_PER_USER: '0',
        PGAPPNAME: applicationName, // node-postgres names its connections so: their backends are found
      },
      20_000,
      nodeArgs,
    );
    const tokens = new TokenService(JWT_SECRET);
    const bearer = callers.map((id) => `Bearer ${tokens.sign(id)}`);
    const system = { api, gateways: [] } as Pick<StartedSystem, 'api' | 'gateways'>;
    // Plain node:http with kept-alive connections: fetch costs the generator several times the
    // CPU per request, and it shares the cores with what it measures.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const target = new URL('/api/mystery/find-match', api.url);
    let next = 0;
    const request = () =>
      new Promise<{ ms: number; status: number }>((resolve) => {
        const i = next++;
        const body = JSON.stringify(FILTERS[i % FILTERS.length]);
        const started = performance.now();
        const done = (status: number) => resolve({ ms: performance.now() - started, status });
        const req = http.request(
          target,
          {
            method: 'POST',
            agent,
            timeout: 10_000,
            headers: {
              authorization: bearer[i % bearer.length]!,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (response) => {
            response.resume();
            response.on('end', () => done(response.statusCode ?? 0));
            response.on('error', () => done(0));
          },
        );
        req.on('timeout', () => req.destroy());
        req.on('error', () => done(0));
        req.end(body);
      });

    if (settings.warmupSeconds > 0)
      await atRate(request, settings.rates[0]!, settings.warmupSeconds);
    const steps: StepResult[] = [];
    for (const rate of settings.rates) {
      // This process is the load generator: its own CPU, apart from the system's.
      const generatorBefore = process.cpuUsage();
      const database = watchDatabase(schema.url, applicationName);
      await database.start();
      const before = cpuUse(system as StartedSystem);
      const outcomes = await atRate(request, rate, settings.seconds);
      const after = cpuUse(system as StartedSystem);
      const backends = await database.stop();
      const generator = process.cpuUsage(generatorBefore);
      const perRequest = (ms: number) => round(ms / Math.max(1, outcomes.length), 2);
      const per = (key: keyof typeof before) => perRequest(after[key] - before[key]);
      const errorsByStatus: Record<string, number> = {};
      for (const { status } of outcomes) {
        if (status !== 201) errorsByStatus[status] = (errorsByStatus[status] ?? 0) + 1;
      }
      const step: StepResult = {
        rate_per_s: rate,
        sent: outcomes.length,
        matched: outcomes.filter((o) => o.status === 201).length,
        errors: outcomes.filter((o) => o.status !== 201).length,
        errors_by_status: errorsByStatus,
        latency: summarize(outcomes.map((o) => o.ms)),
        load_average_1m: round(os.loadavg()[0]!, 2),
        cpu_ms_per_request: {
          api: per('app'),
          postgres: per('postgres'),
          postgres_api_backends: perRequest(backends.backend_cpu_ms),
          redis: per('redis'),
          load_generator: perRequest((generator.user + generator.system) / 1000),
        },
      };
      steps.push(step);
      console.error(`find-match @ ${rate}/s: ${JSON.stringify(step)}`);
      if (step.latency.p99_ms > settings.giveUpP99Ms) break;
    }
    const passing = steps.filter((s) => s.latency.p99_ms < settings.targetP99Ms && s.errors === 0);
    const report = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version },
      settings,
      best_passing_rate: passing.at(-1)?.rate_per_s ?? null,
      steps,
      api_problems: problemsLogged(api.logs),
    };
    const dir = path.join(__dirname, '..', 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `match-${report.at.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    console.table(
      steps.map((s) => ({
        'req/s': s.rate_per_s,
        p50_ms: s.latency.p50_ms,
        p99_ms: s.latency.p99_ms,
        errors: s.errors,
        load_1m: s.load_average_1m,
        'pg ms/req': s.cpu_ms_per_request.postgres,
        'pg api ms/req': s.cpu_ms_per_request.postgres_api_backends,
        'api ms/req': s.cpu_ms_per_request.api,
      })),
    );
    console.log(`written to ${path.relative(process.cwd(), file)}`);
  } finally {
    await api?.stop();
    await schema.drop();
  }
}

/** `settings.users` profiles; the first `settings.callers` approved men become premium callers. */
async function seed(schema: Awaited<ReturnType<typeof createTestSchema>>): Promise<number[]> {
  const { db, close } = await openTestDatabase(schema, 1, { timeouts: { statementMs: 0 } });
  try {
    await seedProfiles(db, settings.users);
    const { rows } = await sql<{ id: number }>`
      UPDATE users SET is_premium = true
      WHERE id IN (SELECT id FROM users
                   WHERE gender = 'male' AND verification_status = 'approved' AND deleted_at IS NULL
                   ORDER BY id LIMIT ${settings.callers})
      RETURNING id`.execute(db);
    await sql`VACUUM ANALYZE users`.execute(db);
    return rows.map((row) => Number(row.id));
  } finally {
    await close();
  }
}

/**
 * What the API logged at warn or above (why an answer was 503 or 500), counted by message and
 * cause: an error step's statuses alone do not say which dependency failed.
 */
function problemsLogged(lines: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    let entry: { level?: number; msg?: string; err?: { message?: string } };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if ((entry.level ?? 0) < 40) continue;
    const key = `${entry.msg}: ${entry.err?.message?.slice(0, 120) ?? ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Sends requests at a fixed rate for `seconds`, open loop (a slow answer does not delay the next
 * request), and waits for every answer.
 */
async function atRate<T>(send: () => Promise<T>, rate: number, seconds: number): Promise<T[]> {
  const total = rate * seconds;
  const pending: Promise<T>[] = [];
  const start = performance.now();
  while (pending.length < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    while (pending.length < due) pending.push(send());
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Promise.all(pending);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
