// `npm run bench`: the chat throughput of the scaled system beside a bare Socket.IO relay's, the
// memory per idle socket, and history paging at depth. Every number comes from this run, on this
// machine; results go to load-tests/results/ as JSON and to stdout as a table.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TokenService } from '@mm/core';
import { createTestSchema } from '@mm/db/testing';
import { testRedisUrl, uniqueRedisPrefix } from '@mm/test-support/processes';
import { connectAll, runAtRate, type RateResult } from './chat-load';
import { socketHeapProfile } from './socket-heap';
import { percentile, round } from './stats';
import {
  cpuUse,
  JWT_SECRET,
  nodeArgs,
  rssBytes,
  seedDeepHistory,
  startBareRelay,
  startScaledSystem,
  type StartedSystem,
} from './systems';

const env = process.env;
const settings = {
  pairs: Number(env.BENCH_PAIRS ?? 100),
  seconds: Number(env.BENCH_SECONDS ?? 10),
  warmupSeconds: Number(env.BENCH_WARMUP_SECONDS ?? 40),
  rounds: Math.max(1, Number(env.BENCH_ROUNDS ?? 3)),
  rates: (env.BENCH_RATES ?? '1000,1500,2000,2500,3000,3500,4000,4500,5000,5500,6000,7000,8000')
    .split(',')
    .map(Number),
  targetP99Ms: Number(env.BENCH_TARGET_P99_MS ?? 50),
  idleSockets: Number(env.BENCH_IDLE_SOCKETS ?? 10_000),
  historyDepth: Number(env.BENCH_HISTORY_DEPTH ?? 100_000),
  heapProfileSockets: Number(env.BENCH_HEAP_PROFILE_SOCKETS ?? 2_000),
  only: new Set((env.BENCH_ONLY ?? 'chat,idle,socket-heap,history').split(',')),
  systems: new Set((env.BENCH_SYSTEMS ?? 'ours,relay').split(',')),
};

/** The systems compared, in the order run; `BENCH_SYSTEMS=ours` skips the relay while iterating. */
const systemStarters = () =>
  [
    ...(settings.systems.has('ours') ? [startScaledSystem] : []),
    ...(settings.systems.has('relay') ? [startBareRelay] : []),
  ] as const;

const passes = (r: RateResult) =>
  r.latency.p99_ms < settings.targetP99Ms && r.lost === 0 && r.duplicated === 0 && r.errors === 0;

/** Climbs the rate ladder until a step fails the target; returns every step run. */
async function rateLadder(system: StartedSystem): Promise<RateResult[]> {
  const pairs = await system.participants(settings.pairs);
  const connected = await connectAll(pairs.flat());
  const byPair = pairs.map(
    (_, i) =>
      [connected[2 * i]!, connected[2 * i + 1]!] as [(typeof connected)[0], (typeof connected)[0]],
  );
  const results: RateResult[] = [];
  try {
    // Not measured: the first load of a fresh process compiles its hot paths, opens pool
    // connections and loads Redis scripts. Both systems get the same warm-up.
    if (settings.warmupSeconds > 0) {
      await runAtRate(byPair, settings.rates[0]!, settings.warmupSeconds, 'warmup');
    }
    for (const rate of settings.rates) {
      const before = cpuUse(system);
      const result = await runAtRate(byPair, rate, settings.seconds, `r${rate}`);
      const after = cpuUse(system);
      // CPU per 1,000 delivered messages: what the design costs, whatever else the machine does.
      const per1k = (key: keyof typeof before) =>
        round(((after[key] - before[key]) / Math.max(1, result.delivered)) * 1000);
      result.cpu_ms_per_1k_messages = {
        app: per1k('app'),
        postgres: per1k('postgres'),
        redis: per1k('redis'),
        load_generator: per1k('load_generator'),
      };
      results.push(result);
      console.error(`${system.name} @ ${rate}/s: ${JSON.stringify(result)}`);
      if (!passes(result)) break;
    }
  } finally {
    connected.forEach(({ socket }) => socket.disconnect());
  }
  return results;
}

interface Ladder {
  steps: RateResult[];
  best_passing_rate: number | null;
}

/**
 * Climbs each system's ladder `BENCH_ROUNDS` times and reports the median of its best passing
 * rates. One step that fails stops a ladder, so a burst elsewhere on the machine can decide a
 * single ladder; the median of several is the figure to quote. The systems take turns, and the
 * one that goes first alternates, so a drift of the machine over the run falls on both.
 */
async function chatThroughput() {
  const ladders = new Map<StartedSystem['name'], Ladder[]>();
  for (let round = 0; round < settings.rounds; round++) {
    const starters = systemStarters();
    for (const start of round % 2 === 0 ? starters : [...starters].reverse()) {
      const system = await start();
      try {
        const steps = await rateLadder(system);
        const best = steps.filter(passes).at(-1)?.rate_per_s ?? null;
        ladders.set(system.name, [
          ...(ladders.get(system.name) ?? []),
          { steps, best_passing_rate: best },
        ]);
      } finally {
        await system.stop();
      }
    }
  }
  const medianOf = (rounds: Ladder[]) =>
    percentile(
      rounds.map((ladder) => ladder.best_passing_rate ?? 0),
      50,
    );
  const out: Record<string, unknown> = {};
  for (const [name, rounds] of ladders) out[name] = { best_passing_rate: medianOf(rounds), rounds };
  const ours = ladders.get('mystery-match');
  const relay = ladders.get('bare relay');
  if (ours && relay) {
    const ratio = (a: number | null, b: number | null) => round((a ?? 0) / Math.max(1, b ?? 0), 2);
    out.ratio_to_relay = {
      of_medians: ratio(medianOf(ours), medianOf(relay)),
      per_round: ours.map((ladder, i) =>
        ratio(ladder.best_passing_rate, relay[i]!.best_passing_rate),
      ),
    };
  }
  return out;
}

/** RSS growth of one gateway process per idle authenticated socket, ours beside the bare relay. */
async function idleSocketMemory() {
  const out: Record<string, unknown> = {};
  for (const start of systemStarters()) {
    const system = await start();
    try {
      const gateway = system.gateways[0]!;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const before = rssBytes(gateway.child.pid!);
      const participants = Array.from({ length: settings.idleSockets }, (_, i) => ({
        userId: i + 1,
        matchId: 0,
        gatewayUrl: gateway.url,
        auth: system.idleAuth(i + 1),
      }));
      const connected = await connectAll(participants, 500);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const after = rssBytes(gateway.child.pid!);
      connected.forEach(({ socket }) => socket.disconnect());
      out[system.name] = {
        sockets: connected.length,
        rss_before_mb: round(before / 2 ** 20),
        rss_after_mb: round(after / 2 ** 20),
        rss_per_socket_kb: round((after - before) / connected.length / 1024, 2),
      };
    } finally {
      await system.stop();
    }
  }
  return out;
}

async function historyAtDepth() {
  const system = await startScaledSystem();
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

/** The heap an idle authenticated socket keeps in the real gateway, on a fresh schema. */
async function gatewayHeapProfile(sockets: number) {
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
    load_generator: 'same machine',
    node_args: nodeArgs,
  };
  const result: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine,
    settings: { ...settings, only: [...settings.only], systems: [...settings.systems] },
  };
  if (settings.only.has('chat')) result.chat = await chatThroughput();
  if (settings.only.has('idle')) result.idle_sockets = await idleSocketMemory();
  if (settings.only.has('socket-heap')) {
    result.socket_heap = {
      'socket.io alone': await socketHeapProfile(settings.heapProfileSockets),
      'our gateway': await gatewayHeapProfile(settings.heapProfileSockets),
    };
  }
  if (settings.only.has('history')) result.history = await historyAtDepth();

  const dir = path.join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${String(result.date).replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
  console.error(`written to ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
