// `npm run bench`: the chat throughput of the scaled system beside a bare Socket.IO relay's and a
// naive persisted relay's, the adapter fan-out per gateway with the classic and the sharded Redis
// adapter, the memory per idle socket, and history paging at depth. Every number comes from this
// run, on this machine; results go to load-tests/results/ and stdout as JSON.
import os from 'node:os';
import { TokenService } from '@mm/core';
import { createTestSchema } from '@mm/db/testing';
import { testRedisUrl, uniqueRedisPrefix } from '@mm/test-support/processes';
import { socketSpec } from './chat-load';
import { adapterFanout, checkFanoutSettings, type FanoutSettings } from './fanout';
import { startLoadGenerator, type LoadGenerator, type StepResult } from './generator';
import { socketHeapProfile } from './socket-heap';
import { percentile, round, writeResult, type CpuUse } from './stats';
import {
  cpuUse,
  JWT_SECRET,
  nodeArgs,
  rssBytes,
  seedDeepHistory,
  startBareRelay,
  startNaiveRelay,
  startScaledSystem,
  type AdapterMode,
  type StartedSystem,
} from './systems';

const env = process.env;
/**
 * BENCH_SIZE=smoke: a run of a minute or two that checks the bench still works (CI, tests), every
 * setting small; any BENCH_* variable set still wins. Its numbers mean nothing.
 */
const smoke = env.BENCH_SIZE === 'smoke';
const setting = (name: string, full: string, small: string) =>
  env[`BENCH_${name}`] ?? (smoke ? small : full);
const settings = {
  size: smoke ? 'smoke' : 'full',
  pairs: Number(setting('PAIRS', '100', '10')),
  seconds: Number(setting('SECONDS', '10', '2')),
  warmupSeconds: Number(setting('WARMUP_SECONDS', '40', '2')),
  rounds: Math.max(1, Number(setting('ROUNDS', '3', '1'))),
  rates: setting(
    'RATES',
    '1000,2000,3000,4000,5000,6000,8000,10000,12000,15000,20000,25000,30000',
    '200,400',
  )
    .split(',')
    .map(Number),
  targetP99Ms: Number(setting('TARGET_P99_MS', '50', '50')),
  idleSockets: Number(setting('IDLE_SOCKETS', '10000', '200')),
  /** Seconds after the last idle socket connected at which the RSS is read. */
  idleReadingsS: setting('IDLE_READINGS_S', '10,30,60', '2').split(',').map(Number),
  historyDepth: Number(setting('HISTORY_DEPTH', '100000', '1000')),
  heapProfileSockets: Number(setting('HEAP_PROFILE_SOCKETS', '2000', '100')),
  /** The room adapter modes the gateway's heap profile runs with (REDIS_ADAPTER), in turn. */
  heapProfileAdapters: setting('HEAP_PROFILE_ADAPTERS', 'sharded,classic', 'sharded').split(','),
  // The smoke size leaves the fan-out step (ten processes) to its own test,
  // tests/bench/bench-fanout.test.ts, which runs it with BENCH_ONLY=fanout.
  only: new Set(setting('ONLY', 'chat,fanout,idle,socket-heap,history', 'chat,idle').split(',')),
  systems: new Set(setting('SYSTEMS', 'ours,relay,naive', 'ours,relay,naive').split(',')),
  /** The adapter ours runs with outside the fan-out step, which runs both. */
  adapter: adapterMode(setting('ADAPTER', 'sharded', 'sharded')),
};

/** The fan-out step's: its own pairs, rate and length, the ladder's warm-up and rounds. */
const fanoutSettings: FanoutSettings = {
  pairs: Number(setting('FANOUT_PAIRS', '96', '12')),
  rate: Number(setting('FANOUT_RATE', '2000', '400')),
  seconds: Number(setting('FANOUT_SECONDS', '5', '2')),
  warmupSeconds: settings.warmupSeconds,
  rounds: settings.rounds,
};

function adapterMode(value: string): AdapterMode {
  if (value === 'sharded' || value === 'classic') return value;
  throw new Error(`BENCH_ADAPTER must be sharded or classic, not ${JSON.stringify(value)}`);
}

/** The systems compared, in the order run; `BENCH_SYSTEMS=ours` skips the others while iterating. */
const systemStarters = () =>
  [
    ...(settings.systems.has('ours')
      ? [() => startScaledSystem({ adapter: settings.adapter })]
      : []),
    ...(settings.systems.has('relay') ? [startBareRelay] : []),
    ...(settings.systems.has('naive') ? [startNaiveRelay] : []),
  ] as const;

/** One step of a ladder: what the generator measured, and what the system's processes spent. */
type RateResult = StepResult & {
  /** CPU per 1,000 delivered messages: the system's processes, PostgreSQL, Redis, the generator. */
  cpu_ms_per_1k_messages: CpuUse & { load_generator: number };
};

const passes = (r: StepResult) =>
  r.latency.p99_ms < settings.targetP99Ms &&
  r.ack_latency.p99_ms < settings.targetP99Ms &&
  r.lost + r.duplicated + r.misrouted + r.unacked + r.errors === 0 &&
  r.delivered > 0;

/** A system of one round, its sockets held by the generator, climbing while it passes. */
interface Climber {
  system: StartedSystem;
  group: string;
  steps: RateResult[];
  climbing: boolean;
}

/** Runs one step of a climber's ladder and measures its processes' CPU over it. */
async function step(generator: LoadGenerator, climber: Climber, rate: number, runId: string) {
  const before = cpuUse(climber.system);
  const result = await generator.runStep(climber.group, rate, settings.seconds, runId);
  const after = cpuUse(climber.system);
  // CPU per 1,000 delivered messages: what the design costs, whatever else the machine does.
  const per1k = (key: keyof CpuUse) =>
    round(((after[key] - before[key]) / Math.max(1, result.delivered)) * 1000);
  return {
    ...result,
    cpu_ms_per_1k_messages: {
      app: per1k('app'),
      postgres: per1k('postgres'),
      redis: per1k('redis'),
      load_generator: result.generator.cpu_ms_per_1k_messages,
    },
  };
}

interface Ladder {
  steps: RateResult[];
  best_passing_rate: number | null;
}

/**
 * One round: starts every system afresh, connects `BENCH_PAIRS` pairs to each (side A on gateway
 * 1, side B on gateway 2), warms each up, then climbs the rates with the systems taking turns at
 * each rate, in `order`. A system leaves the ladder at its first failing step.
 */
async function chatRound(generator: LoadGenerator, round: number): Promise<Climber[]> {
  const starters = systemStarters();
  const order = starters.map((_, i) => starters[(i + round) % starters.length]!);
  const climbers: Climber[] = [];
  try {
    for (const start of order) {
      const system = await start();
      const climber = { system, group: `${system.name} ${round}`, steps: [], climbing: true };
      climbers.push(climber);
      const pairs = await system.participants(settings.pairs);
      await generator.connectPairs(
        climber.group,
        pairs.map(([a, b]) => [socketSpec(a), socketSpec(b)]),
      );
    }
    // Not measured: the first load of a fresh process compiles its hot paths, opens pool
    // connections and loads Redis scripts. Every system gets the same warm-up.
    if (settings.warmupSeconds > 0) {
      for (const climber of climbers) {
        await generator.runStep(climber.group, settings.rates[0]!, settings.warmupSeconds, 'w');
      }
    }
    for (const [i, rate] of settings.rates.entries()) {
      for (const climber of climbers.filter((c) => c.climbing)) {
        const result = await step(generator, climber, rate, `r${i}`);
        climber.steps.push(result);
        climber.climbing = passes(result);
        console.error(`round ${round + 1}, ${climber.system.name} @ ${rate}/s: ${brief(result)}`);
      }
      if (!climbers.some((c) => c.climbing)) break;
    }
    return climbers;
  } finally {
    for (const climber of climbers) {
      await generator.disconnect(climber.group).catch(() => undefined); // stop the system anyway
      await climber.system.stop();
    }
  }
}

const brief = (r: RateResult) =>
  `p99 ${r.latency.p99_ms} ms (ack ${r.ack_latency.p99_ms}), ${r.delivered}/${r.sent} delivered, ` +
  `lost ${r.lost}, dup ${r.duplicated}, misrouted ${r.misrouted}, unacked ${r.unacked}, ` +
  `errors ${r.errors}; CPU per 1k: ${JSON.stringify(r.cpu_ms_per_1k_messages)}; generator ` +
  `${r.generator.cpu_percent_of_one_core} % of a core`;

/**
 * Climbs the ladder `BENCH_ROUNDS` times and reports each system's median best passing rate. One
 * failing step ends a system's ladder, so a burst elsewhere on the machine can decide one ladder;
 * the median of several is the figure to quote. The systems take turns at every rate, and the
 * order rotates from round to round, so a drift of the machine falls on all of them.
 */
async function chatThroughput(generator: LoadGenerator) {
  const ladders = new Map<StartedSystem['name'], Ladder[]>();
  const adapters = new Map<StartedSystem['name'], AdapterMode>();
  for (let round = 0; round < settings.rounds; round++) {
    for (const { system, steps } of await chatRound(generator, round)) {
      adapters.set(system.name, system.adapter);
      const best = steps.filter(passes).at(-1)?.rate_per_s ?? null;
      ladders.set(system.name, [
        ...(ladders.get(system.name) ?? []),
        { steps, best_passing_rate: best },
      ]);
    }
  }
  const medianOf = (rounds: Ladder[]) =>
    percentile(
      rounds.map((ladder) => ladder.best_passing_rate ?? 0),
      50,
    );
  const out: Record<string, unknown> = {};
  for (const [name, rounds] of ladders) {
    out[name] = { adapter: adapters.get(name), best_passing_rate: medianOf(rounds), rounds };
  }
  const relay = ladders.get('bare relay');
  const ratio = (a: number | null, b: number | null) => round((a ?? 0) / Math.max(1, b ?? 0), 2);
  for (const name of ['mystery-match', 'naive relay'] as const) {
    const other = ladders.get(name);
    if (!other || !relay) continue;
    out[`ratio_to_relay (${name})`] = {
      of_medians: ratio(medianOf(other), medianOf(relay)),
      per_round: other.map((ladder, i) =>
        ratio(ladder.best_passing_rate, relay[i]!.best_passing_rate),
      ),
    };
  }
  out.load_generator = generatorHeadroom([...ladders.values()].flat());
  return out;
}

/** The most the generator spent in any step: well under one core means it set no ceiling. */
function generatorHeadroom(ladders: Ladder[]) {
  const steps = ladders.flatMap((ladder) => ladder.steps);
  const busiest = steps.reduce<RateResult | undefined>(
    (top, s) =>
      !top || s.generator.cpu_percent_of_one_core > top.generator.cpu_percent_of_one_core ? s : top,
    undefined,
  );
  return {
    process: 'one Node process, compiled JavaScript (esbuild), socket.io-client over WebSocket',
    busiest_step: busiest && {
      rate_per_s: busiest.rate_per_s,
      sent_per_s: busiest.sent_per_s,
      ...busiest.generator,
    },
    cpu_ms_per_1k_messages_median: percentile(
      steps.map((s) => s.generator.cpu_ms_per_1k_messages),
      50,
    ),
  };
}

/**
 * RSS growth of one gateway process per idle authenticated socket, ours beside the relays, read at
 * each of `idleReadingsS` seconds after the last socket connected: the first readings still hold
 * the connect path's garbage and the heap's slack, which V8 gives back once the process is idle.
 * The sockets are the generator's, so the bench's own process stays small.
 */
async function idleSocketMemory(generator: LoadGenerator) {
  const out: Record<string, Record<string, number | Record<string, number>> | number> = {};
  for (const start of systemStarters()) {
    const system = await start();
    try {
      const gateway = system.gateways[0]!;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const before = rssBytes(gateway.child.pid!);
      const sockets = Array.from({ length: settings.idleSockets }, (_, i) => ({
        url: gateway.url,
        auth: system.idleAuth(i + 1),
      }));
      const connected = await generator.connectIdle('idle', sockets);
      const connectedAt = performance.now();
      const perSocketKb: Record<string, number> = {};
      const afterMb: Record<string, number> = {};
      for (const seconds of settings.idleReadingsS) {
        const wait = connectedAt + seconds * 1_000 - performance.now();
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
        const after = rssBytes(gateway.child.pid!);
        afterMb[`${seconds}s`] = round(after / 2 ** 20);
        perSocketKb[`${seconds}s`] = round((after - before) / connected / 1024, 2);
      }
      await generator.disconnect('idle');
      out[system.name] = {
        sockets: connected,
        rss_before_mb: round(before / 2 ** 20),
        rss_after_mb: afterMb,
        rss_per_socket_kb: perSocketKb,
      };
    } finally {
      await system.stop();
    }
  }
  const perSocket = (name: StartedSystem['name']) => {
    const entry = out[name];
    return typeof entry === 'object' ? (entry.rss_per_socket_kb as Record<string, number>) : {};
  };
  const [ours, relay] = [perSocket('mystery-match'), perSocket('bare relay')];
  const ratios = Object.fromEntries(
    Object.entries(ours)
      .filter(([at]) => relay[at])
      .map(([at, kb]) => [at, round(kb / relay[at]!, 2)]),
  );
  if (Object.keys(ratios).length > 0) out.rss_ratio_to_relay = ratios;
  return out;
}

async function historyAtDepth() {
  const system = await startScaledSystem({ adapter: settings.adapter });
  try {
    const { matchId, userId } = await seedDeepHistory(system.schema!, settings.historyDepth);
    const token = new TokenService(JWT_SECRET).sign(userId);
    const time = async (query: string, samples = 200) => {
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) {
        const start = performance.now();
        const res = await fetch(`${system.api!.url}/api/mystery/chat/${matchId}?${query}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.json();
        if (!res.ok) throw new Error(`history ${query}: ${res.status}`);
        ms.push(performance.now() - start);
      }
      return { p50_ms: round(percentile(ms, 50), 2), p95_ms: round(percentile(ms, 95), 2) };
    };
    await time('limit=50', 50); // warm-up
    const page1 = await time('limit=50');
    const deepest = await time(`limit=50&before=51`);
    return {
      depth: settings.historyDepth,
      page_1: page1,
      page_at_depth: deepest,
      ratio_p50: round(deepest.p50_ms / page1.p50_ms, 2),
    };
  } finally {
    await system.stop();
  }
}

/**
 * The heap an idle authenticated socket keeps in the real gateway, on a fresh schema, with the
 * room adapter in `adapter` mode: sharded subscribes to a channel per user room, classic does not.
 */
async function gatewayHeapProfile(sockets: number, adapter: string) {
  const schema = await createTestSchema('bench_heap');
  try {
    const tokens = new TokenService(JWT_SECRET);
    return await socketHeapProfile(sockets, {
      kind: 'gateway',
      env: {
        DATABASE_URL: schema.url,
        DATABASE_SCHEMA: schema.schema,
        REDIS_URL: testRedisUrl,
        REDIS_PREFIX: uniqueRedisPrefix('bench-heap'),
        JWT_SECRET,
        REDIS_ADAPTER: adapter,
        // Every client comes from 127.0.0.1: the per-address handshake limit would refuse most.
        HANDSHAKE_RATE_LIMIT_PER_IP: '0',
        // Heap is what it measures: a database slowed by a busy machine must not refuse handshakes.
        DATABASE_ACQUIRE_TIMEOUT_MS: '60000',
      },
      auth: (userId) => ({ token: tokens.sign(userId) }),
    });
  } finally {
    await schema.drop();
  }
}

async function main() {
  const machine = {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gb: round(os.totalmem() / 2 ** 30),
    node: process.version,
    load_generator: 'same machine, a process of its own (load-generator.ts, compiled)',
    node_args: nodeArgs,
  };
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine,
    settings: {
      ...settings,
      only: [...settings.only],
      systems: [...settings.systems],
      fanout: fanoutSettings,
    },
  };
  // Refused before the hour of the ladder, not after it.
  if (settings.only.has('fanout')) checkFanoutSettings(fanoutSettings);
  const generator = await startLoadGenerator(nodeArgs);
  try {
    if (settings.only.has('chat')) result.chat = await chatThroughput(generator);
    if (settings.only.has('fanout')) result.fanout = await adapterFanout(generator, fanoutSettings);
    if (settings.only.has('idle')) result.idle_sockets = await idleSocketMemory(generator);
  } finally {
    generator.stop();
  }
  if (settings.only.has('socket-heap')) {
    const heap: Record<string, unknown> = {
      // The floor the target names: Socket.IO's own, before the trims our server makes.
      'socket.io stock': await socketHeapProfile(settings.heapProfileSockets, { kind: 'stock' }),
      'socket.io alone': await socketHeapProfile(settings.heapProfileSockets),
    };
    for (const adapter of settings.heapProfileAdapters) {
      heap[`our gateway (${adapter})`] = await gatewayHeapProfile(
        settings.heapProfileSockets,
        adapter,
      );
    }
    result.socket_heap = heap;
  }
  if (settings.only.has('history')) result.history = await historyAtDepth();

  writeResult('bench', { ...result, date: String(result.date) });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
