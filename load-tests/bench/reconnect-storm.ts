// `npm run bench:storm`: a gateway holding BENCH_STORM_SOCKETS authenticated SDK clients (10,000)
// is killed with SIGKILL; they reconnect through a round-robin proxy to the surviving gateways and
// sync their matches while partners keep sending (the harness of tests/system/reconnect-storm,
// packages/test-support/src/reconnect-storm.ts). Reports the time until 99 % and 100 % are ready,
// the handshakes refused, messages lost or doubled, and PostgreSQL's load meanwhile: the CPU of the
// gateways' own backends (found by application_name) and their connections in use.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createTestSchema, openTestDatabase, seedMatchedPairs } from '@mm/db/testing';
import { startApp } from '@mm/test-support/processes';
import { prepareStorm, type StormResult } from '@mm/test-support/reconnect-storm';
import { watchDatabase } from './database-load';
import { percentile, round, writeResult } from './stats';
import { cpuMsOf, JWT_SECRET, nodeArgs, scaledSystemEnv, START_TIMEOUT_MS } from './systems';

const env = process.env;
const smoke = env.BENCH_SIZE === 'smoke';
const setting = (name: string, full: string, small: string) =>
  Number(env[`BENCH_${name}`] ?? (smoke ? small : full));
const settings = {
  sockets: setting('STORM_SOCKETS', '10000', '200'),
  /** Gateways in all, the doomed one included. */
  gateways: setting('STORM_GATEWAYS', '3', '2'),
  senders: setting('STORM_SENDERS', '1000', '20'),
  messagesPerSender: setting('STORM_MESSAGES', '3', '3'),
  /** Receivers per client process (each with its own proxy: three descriptors per client). */
  clientsPerWorker: setting('STORM_CLIENTS_PER_WORKER', '2500', '2500'),
  /** How long a storm may take to settle before the round fails (long: a loaded machine is slow). */
  settleSeconds: setting('STORM_SETTLE_SECONDS', '300', '120'),
  rounds: Math.max(1, setting('ROUNDS', '1', '1')),
};

/**
 * The machine's count of connections dropped because a listening socket's accept queue was full
 * (TcpExt ListenOverflows): a gateway too busy to accept makes its clients' SYNs go unanswered,
 * and they are sent again only after 1 s, 3 s, 7 s. Machine-wide: other work counts too.
 */
function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const header = lines.findIndex((line) => line.startsWith('TcpExt:'));
  const names = lines[header]!.split(' ');
  const values = lines[header + 1]!.split(' ');
  return Number(values[names.indexOf('ListenOverflows')] ?? NaN);
}

/**
 * The system calls that read and wrote of these processes so far (`syscr`, `syscw` in
 * /proc/<pid>/io; every socket read and send is one): a count the machine's load does not move,
 * unlike CPU time.
 */
function syscallsOf(pids: number[]): { reads: number; writes: number } {
  let reads = 0;
  let writes = 0;
  for (const pid of pids) {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    reads += Number(/syscr: (\d+)/.exec(io)?.[1] ?? NaN);
    writes += Number(/syscw: (\d+)/.exec(io)?.[1] ?? NaN);
  }
  return { reads, writes };
}

/** Microseconds of CLOCK_MONOTONIC: the clock V8's CPU profiles (BENCH_CPU_PROF) are stamped with. */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** One storm on fresh gateways and a fresh schema. */
async function stormRound(index: number) {
  const schema = await createTestSchema('bench_storm');
  const applicationName = `mm-storm-${process.pid}-${index}`;
  const { HANDSHAKE_RATE_LIMIT_PER_IP: _unlimited, ...systemEnv } = scaledSystemEnv(schema);
  const gatewayEnv = {
    ...systemEnv,
    // As deployed behind a load balancer: the handshake limit per address at its default, each
    // client's address read from the X-Forwarded-For the balancer appends (the harness gives every
    // user one, as from their own device), not the balancer's own.
    TRUST_PROXY_HOPS: '1',
    LOG_LEVEL: 'info', // the start is logged at info
    PGAPPNAME: applicationName, // node-postgres names its connections so: their backends are found
  };
  const gateways = await Promise.all(
    Array.from({ length: settings.gateways }, () =>
      startApp('gateway', gatewayEnv, START_TIMEOUT_MS, nodeArgs),
    ),
  );
  const handle = await openTestDatabase(schema, 1);
  try {
    const pairs = await seedMatchedPairs(handle.db, settings.sockets);
    const [doomed, ...survivors] = gateways;
    const started = performance.now();
    const storm = await prepareStorm({
      doomed: doomed!,
      survivors,
      pairs,
      jwtSecret: JWT_SECRET,
      senders: settings.senders,
      messagesPerSender: settings.messagesPerSender,
      settleTimeoutMs: settings.settleSeconds * 1000,
      clientsPerWorker: settings.clientsPerWorker,
      nodeArgs,
    });
    const connectSeconds = round((performance.now() - started) / 1000);
    console.error(`round ${index}: ${storm.clients} clients ready in ${connectSeconds} s; killing`);
    const database = watchDatabase(schema.url, applicationName);
    try {
      await database.start();
      const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
      const survivorPids = survivors.map((g) => g.child.pid!);
      const [survivorsBefore, clientsBefore] = [cpuOf(survivorPids), cpuOf(storm.workerPids)];
      const callsBefore = [syscallsOf(survivorPids), syscallsOf(storm.workerPids)] as const;
      const loadBefore = os.loadavg()[0]!;
      const overflowsBefore = listenOverflows();
      const startedAtMicros = monotonicMicros();
      const result: StormResult = await storm.unleash();
      const [survivorCalls, clientCalls] = [syscallsOf(survivorPids), syscallsOf(storm.workerPids)];
      return {
        ...result,
        setup_seconds: connectSeconds,
        /** From the kill until all were ready: where to cut a CPU profile (BENCH_CPU_PROF). */
        storm_monotonic_us: [startedAtMicros, monotonicMicros()],
        survivors_cpu_ms: Math.round(cpuOf(survivorPids) - survivorsBefore),
        /** Socket reads and sends (and any other I/O calls) during the storm. */
        syscalls: {
          survivors_reads: survivorCalls.reads - callsBefore[0].reads,
          survivors_writes: survivorCalls.writes - callsBefore[0].writes,
          clients_reads: clientCalls.reads - callsBefore[1].reads,
          clients_writes: clientCalls.writes - callsBefore[1].writes,
        },
        /** The client processes: the SDK clients and the proxies in front of the gateways. */
        clients_cpu_ms: Math.round(cpuOf(storm.workerPids) - clientsBefore),
        listen_overflows: listenOverflows() - overflowsBefore,
        load_average_1m: { before: round(loadBefore, 1), after: round(os.loadavg()[0]!, 1) },
        database: await database.stop(),
      };
    } finally {
      await storm.close();
    }
  } finally {
    await handle.close();
    await Promise.all(gateways.map((g) => g.stop()));
    await schema.drop();
  }
}

async function main() {
  const rounds: Awaited<ReturnType<typeof stormRound>>[] = [];
  for (let r = 1; r <= settings.rounds; r++) {
    rounds.push(await stormRound(r));
    console.error(JSON.stringify(rounds.at(-1)));
  }
  const median = (pick: (r: Awaited<ReturnType<typeof stormRound>>) => number) =>
    percentile(rounds.map(pick), 50);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, node_args: nodeArgs },
    settings: { ...settings, size: smoke ? 'smoke' : 'full' },
    median: {
      ready_99_ms: median((r) => r.ready_99_ms),
      ready_100_ms: median((r) => r.ready_100_ms),
      refused_handshakes: median((r) => r.refused_handshakes),
      database_backend_cpu_ms: median((r) => r.database.backend_cpu_ms),
    },
    rounds,
  };
  writeResult('storm', result);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
