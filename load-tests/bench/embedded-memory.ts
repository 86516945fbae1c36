// `npm run bench:embedded-memory`: the resident memory of the embedded default (`npm start`) under
// each configuration tried. Each run starts the compiled app as a real process on a fresh
// DATA_DIR (PGlite's initdb runs), reads VmRSS and VmHWM from /proc/<pid>/status once
// /health/ready answers, after an idle while, and after a few users chat; then restarts it on the
// same folder and reads them again. Prints a table of medians; the runs go to load-tests/results/.
//
//   EMBEDDED_MEMORY_RUNS=3       runs per configuration
//   EMBEDDED_MEMORY_CONFIGS=a,b  only the configurations named (see CONFIGS)
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { sendMessage, type ChatSocket, type MatchView } from '@mm/client';
import { connect, createUser, type TestUser } from '@mm/test-support/chat';
import { untilReady } from '@mm/test-support/http';
import { npmStartNodeFlags, startNode, type RunningProcess } from '@mm/test-support/processes';
import { percentile, round } from './stats';

interface Configuration {
  name: string;
  what: string;
  /** PGLITE_SETTINGS of the process; empty: the defaults (PGLITE_DEFAULT_SETTINGS). */
  settings: string;
  nodeArgs: string[];
}

const CONFIGS: Configuration[] = [
  {
    name: 'stock',
    what: "PGlite's own settings (shared_buffers=128MB), as before",
    settings: 'shared_buffers=128MB',
    nodeArgs: [],
  },
  {
    name: 'sb16',
    what: 'shared_buffers=16MB (the default setting), no node flag',
    settings: '',
    nodeArgs: [],
  },
  {
    name: 'sb8',
    what: 'shared_buffers=8MB',
    settings: 'shared_buffers=8MB',
    nodeArgs: [],
  },
  {
    name: 'small-all',
    what: 'shared_buffers=16MB and every other memory setting lowered',
    settings:
      'shared_buffers=16MB wal_buffers=64kB temp_buffers=1MB work_mem=1MB ' +
      'maintenance_work_mem=16MB max_connections=4',
    nodeArgs: [],
  },
  {
    name: 'npm-start',
    what: 'what npm start runs: shared_buffers=16MB, node --liftoff-only (no optimising tier for WebAssembly)',
    settings: '',
    nodeArgs: npmStartNodeFlags(),
  },
  {
    name: 'stock-liftoff',
    what: "PGlite's own settings, node --liftoff-only",
    settings: 'shared_buffers=128MB',
    nodeArgs: ['--liftoff-only'],
  },
];

const RUNS = Number(process.env.EMBEDDED_MEMORY_RUNS ?? 3);
const ONLY = process.env.EMBEDDED_MEMORY_CONFIGS?.split(',').filter(Boolean);
const IDLE_MS = 10_000;
const PAIRS = 4;
const MESSAGES_PER_SENDER = 50;
const ENTRY = path.resolve(__dirname, '../../apps/embedded/dist/main.js');

interface Memory {
  rss_mb: number;
  hwm_mb: number;
}

interface Run {
  first_start: {
    start_ms: number;
    ready: Memory;
    idle: Memory;
    chat: Memory;
    ack_p50_ms: number;
    ack_p95_ms: number;
  };
  restart: { start_ms: number; ready: Memory; idle: Memory };
}

/** VmRSS (resident now) and VmHWM (the most it was resident), in MB. */
function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  return { rss_mb: Math.round(kb('VmRSS') / 1024), hwm_mb: Math.round(kb('VmHWM') / 1024) };
}

async function start(config: Configuration, dataDir: string) {
  const started = performance.now();
  const app = await startNode(
    'embedded',
    [...config.nodeArgs, ENTRY],
    {
      DATA_DIR: dataDir,
      PGLITE_SETTINGS: config.settings,
      DATABASE_URL: '',
      REDIS_URL: '',
      JWT_SECRET: '',
      DEV_TOKENS: '',
      // The chat below is one burst from 127.0.0.1: no limit is what it measures.
      MESSAGE_RATE_LIMIT: '1000000',
      HTTP_RATE_LIMIT_PER_IP: '0',
      HTTP_RATE_LIMIT_PER_USER: '0',
      HANDSHAKE_RATE_LIMIT_PER_IP: '0',
    },
    120_000,
  );
  await untilReady(app.url, 120_000);
  return { app, start_ms: Math.round(performance.now() - started), ready: memory(app.child.pid!) };
}

const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PAIRS users each find a match; then both sides of each send their messages one after another. */
async function chat(app: RunningProcess): Promise<number[]> {
  const users: TestUser[] = [];
  for (let id = 1; id <= 2 * PAIRS; id++) users.push(await createUser(app.url, id));
  const sockets = new Map<number, ChatSocket>();
  for (const user of users) sockets.set(user.id, await connect(app.url, user));
  const acks: number[] = [];
  try {
    const matches: MatchView[] = [];
    for (const user of users.slice(0, PAIRS)) matches.push(await user.rest.findMatch(user.id));
    const senders = matches.flatMap((match, i) => [
      { userId: users[i]!.id, matchId: match.id },
      { userId: match.partner_id, matchId: match.id },
    ]);
    await Promise.all(
      senders.map(async ({ userId, matchId }, s) => {
        for (let n = 0; n < MESSAGES_PER_SENDER; n++) {
          const sent = performance.now();
          await sendMessage(sockets.get(userId)!, {
            match_id: matchId,
            client_id: `m-${s}-${n}`,
            body: `message ${n} from ${userId}`,
          });
          acks.push(performance.now() - sent);
        }
      }),
    );
  } finally {
    for (const socket of sockets.values()) socket.disconnect();
  }
  return acks;
}

async function measure(config: Configuration): Promise<Run> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mm-embedded-memory-'));
  try {
    const first = await start(config, dataDir);
    let firstStart: Run['first_start'];
    try {
      await idle(IDLE_MS);
      const idleMemory = memory(first.app.child.pid!);
      const acks = await chat(first.app);
      firstStart = {
        start_ms: first.start_ms,
        ready: first.ready,
        idle: idleMemory,
        chat: memory(first.app.child.pid!),
        ack_p50_ms: round(percentile(acks, 50)),
        ack_p95_ms: round(percentile(acks, 95)),
      };
    } finally {
      await first.app.stop();
    }
    const second = await start(config, dataDir);
    try {
      await idle(IDLE_MS);
      return {
        first_start: firstStart,
        restart: {
          start_ms: second.start_ms,
          ready: second.ready,
          idle: memory(second.app.child.pid!),
        },
      };
    } finally {
      await second.app.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => percentile(values, 50);
/** `median (min–max)` of one figure over the runs. */
function spread(runs: Run[], pick: (run: Run) => number): string {
  const values = runs.map(pick);
  return `${median(values)} (${Math.min(...values)}–${Math.max(...values)})`;
}

async function main() {
  const configs = CONFIGS.filter((c) => !ONLY || ONLY.includes(c.name));
  const load = { before: loadavg().map((l) => round(l, 2)), after: [] as number[] };
  const results: { config: Configuration; runs: Run[] }[] = [];
  // Runs take turns across the configurations, so a busy minute on the machine spreads over all.
  for (const config of configs) results.push({ config, runs: [] });
  for (let r = 0; r < RUNS; r++) {
    for (const result of results) {
      const run = await measure(result.config);
      result.runs.push(run);
      console.error(`${result.config.name} run ${r + 1}: ${JSON.stringify(run)}`);
    }
  }
  load.after = loadavg().map((l) => round(l, 2));

  console.log(
    `\nMB, median (min–max) of ${RUNS} runs; load average ${load.before.join(' ')} → ${load.after.join(' ')}`,
  );
  console.log(
    '| configuration | first start: RSS at ready | HWM at ready | RSS idle 10 s | after chat RSS / HWM | ack p50 / p95 ms | restart: RSS at ready | RSS idle 10 s | HWM |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const { config, runs } of results) {
    const f = (pick: (run: Run) => number) => spread(runs, pick);
    console.log(
      `| ${config.name}: ${config.what} | ${f((x) => x.first_start.ready.rss_mb)} | ` +
        `${f((x) => x.first_start.ready.hwm_mb)} | ${f((x) => x.first_start.idle.rss_mb)} | ` +
        `${median(runs.map((x) => x.first_start.chat.rss_mb))} / ${median(runs.map((x) => x.first_start.chat.hwm_mb))} | ` +
        `${median(runs.map((x) => x.first_start.ack_p50_ms))} / ${median(runs.map((x) => x.first_start.ack_p95_ms))} | ` +
        `${f((x) => x.restart.ready.rss_mb)} | ${f((x) => x.restart.idle.rss_mb)} | ${f((x) => x.restart.idle.hwm_mb)} |`,
    );
  }
  const dir = path.join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(
    dir,
    `embedded-memory-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(
    file,
    JSON.stringify(
      { node: process.version, runs_per_configuration: RUNS, load_average: load, results },
      null,
      2,
    ),
  );
  console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
