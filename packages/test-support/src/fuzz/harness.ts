import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { Socket } from 'socket.io-client';
import { ChatClient, RestClient } from '@mm/client';
import type { MessageView } from '@mm/contract';
import { startApp, type RunningProcess } from '../processes';
import { buildRestCase, describeCase, judge, sendAny, type Actor, type RestTarget } from './rest';
import {
  buildEmitCase,
  describeEmit,
  emitCase,
  fuzzSocket,
  judgeEmit,
  tryHandshake,
} from './sockets';

/**
 * Runs the adversarial suite against a running system: the fuzzer's users and matches, a bystander
 * pair chatting through the SDK the whole time, `/health/live` polled throughout, then the REST and
 * socket cases. Every finding names the seed and the case, so `FUZZ_SEED=<seed>` replays the run.
 */

/** How many cases a run sends: `FUZZ_SIZE=full` for the volume, the CI size otherwise. */
export function fuzzSize(): {
  rest: number;
  emits: number;
  limitedRest: number;
  limitedEmits: number;
} {
  const full = process.env.FUZZ_SIZE === 'full';
  const size = full
    ? { rest: 10_000, emits: 2_000, limitedRest: 2_000, limitedEmits: 400 }
    : { rest: 1_200, emits: 300, limitedRest: 700, limitedEmits: 150 };
  const override = (name: string, fallback: number) => {
    const value = Number(process.env[name]);
    return Number.isSafeInteger(value) && value > 0 ? value : fallback;
  };
  return {
    rest: override('FUZZ_REST', size.rest),
    emits: override('FUZZ_EMITS', size.emits),
    limitedRest: override('FUZZ_REST', size.limitedRest),
    limitedEmits: override('FUZZ_EMITS', size.limitedEmits),
  };
}

/**
 * The environment that lifts the REST, message and handshake rate limits for the volume runs (the
 * fuzzer's sockets reconnect after every frame past the limit, all from one address).
 */
export const LIFTED_LIMITS = {
  HTTP_RATE_LIMIT_PER_IP: '100000000',
  HTTP_RATE_LIMIT_PER_USER: '100000000',
  MESSAGE_RATE_LIMIT: '100000000',
  HANDSHAKE_RATE_LIMIT_PER_IP: '100000000',
};

/** Uploads past this are refused early (the default 5 MB would only make the run slower). */
export const FUZZ_PHOTO_MAX_BYTES = '300000';

export interface Population {
  /** Who the REST fuzzer calls as, matched in pairs. */
  actors: Actor[];
  /** Who calls the routes that end an account, so the others stay usable all run. */
  disposable: Actor[];
  /** Who the socket fuzzer connects as (never a REST caller, so never deleted mid-run). */
  socketActors: Actor[];
  /** Every match between the fuzzer's users. */
  matchIds: number[];
  /** The matches of the socket actors, in their order (one per pair). */
  socketMatchIds: number[];
  /** Each fuzzer user's own match. */
  matchOf: Record<number, number>;
  bystanders: [Actor, Actor];
  bystanderMatchId: number;
  /** Ids that are not the fuzzer's: bystanders, their match, and nobody's. */
  foreignIds: number[];
}

/**
 * The fuzzer's users (made through the public API, as any client), matched in pairs, and a pair
 * of bystanders matched with each other. Ids are fixed: each run has a database of its own.
 */
export async function makePopulation(apiUrl: string): Promise<Population> {
  const user = async (id: number, city: string): Promise<Actor & { rest: RestClient }> => {
    const token = await new RestClient(apiUrl, () => undefined).devToken(id);
    const rest = new RestClient(apiUrl, () => token);
    await rest.saveProfile({ display_name: `user ${id}`, city, interests: ['music'] });
    return { id, token, rest };
  };
  const matchIds: number[] = [];
  const matchOf: Record<number, number> = {};
  const pairs = async (firstId: number, count: number): Promise<Actor[]> => {
    const actors: Actor[] = [];
    for (let a = firstId; a < firstId + count * 2; a += 2) {
      const city = `Fuzz City ${a}`;
      const [first, second] = [await user(a, city), await user(a + 1, city)];
      const match = await first.rest.findMatch(first.id, { city });
      if (match.partner_id !== second.id)
        throw new Error(`${a} was matched with ${match.partner_id}`);
      matchIds.push(match.id);
      matchOf[first.id] = matchOf[second.id] = match.id;
      actors.push({ id: first.id, token: first.token }, { id: second.id, token: second.token });
    }
    return actors;
  };
  const bystanders = await pairs(900_001, 1);
  const bystanderMatchId = matchIds.pop()!;
  return {
    actors: await pairs(1_001, 3),
    disposable: await pairs(2_001, 2),
    socketActors: await pairs(3_001, 2),
    matchIds,
    socketMatchIds: matchIds.slice(-2),
    matchOf,
    bystanders: [bystanders[0]!, bystanders[1]!],
    bystanderMatchId,
    foreignIds: [900_001, 900_002, bystanderMatchId, 987_654_321, 1],
  };
}

/** A 16×16 PNG, the one valid upload. */
export function smallImage(): Promise<Buffer> {
  return sharp({ create: { width: 16, height: 16, channels: 3, background: '#c0ffee' } })
    .png()
    .toBuffer();
}

/** Polls `/health/live` of every address until stopped; keeps every miss. */
export class HealthWatch {
  readonly misses: string[] = [];
  polls = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(urls: string[], intervalMs = 250, timeoutMs = 10_000) {
    this.loops = urls.map(async (url) => {
      while (this.running) {
        const started = Date.now();
        try {
          const response = await fetch(`${url}/health/live`, {
            signal: AbortSignal.timeout(timeoutMs),
          });
          await response.arrayBuffer();
          if (response.status !== 200) this.misses.push(`${url}: ${response.status}`);
        } catch (error) {
          this.misses.push(`${url}: ${(error as Error).message}`);
        }
        this.polls++;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - started))),
        );
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/**
 * Two users chatting through the SDK (`ChatClient`) the whole run, taking turns. Afterwards every
 * message must have been acked ok and each client must hold every one of them exactly once.
 */
export class Bystanders {
  private readonly clients: ChatClient[] = [];
  private readonly delivered: MessageView[][] = [[], []];
  readonly acked: MessageView[] = [];
  readonly refused: string[] = [];
  private running = true;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly urls: [string, string],
    private readonly pair: [Actor, Actor],
    private readonly matchId: number,
  ) {}

  async start(intervalMs = 200): Promise<void> {
    for (const [i, actor] of this.pair.entries()) {
      const client = new ChatClient({ url: this.urls[i]!, token: actor.token });
      client.follow(this.matchId);
      client.on('message', (message) => this.delivered[i]!.push(message));
      client.on('disconnected', (reason) => {
        if (this.running) this.refused.push(`bystander ${i} was disconnected: ${reason}`);
      });
      const ready = new Promise<void>((resolve) => client.on('ready', resolve));
      client.connect();
      await ready;
      this.clients.push(client);
    }
    this.loop = (async () => {
      for (let turn = 0; this.running; turn++) {
        try {
          this.acked.push(await this.clients[turn % 2]!.send(this.matchId, `bystander ${turn}`));
        } catch (error) {
          this.refused.push(`send ${turn}: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
  }

  /**
   * Stops sending; waits (at most `timeoutMs`) for the send in flight and until both hold the last
   * acked message. A send still unsettled then is a problem: the SDK retries until acked.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.running = false;
    const deadline = Date.now() + timeoutMs;
    const settled = await Promise.race([
      this.loop!.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs)),
    ]);
    if (!settled) this.refused.push(`a send was still unacked ${timeoutMs / 1000} s after the run`);
    const last = Math.max(0, ...this.acked.map((m) => m.seq));
    while (Date.now() < deadline && this.clients.some((c) => c.lastSeq(this.matchId) < last)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.clients.forEach((client) => client.close());
  }

  /** What went wrong for the bystanders: refused sends, lost or repeated deliveries. */
  problems(): string[] {
    const problems = [...this.refused];
    const sent = this.acked.map((m) => m.seq).sort((a, b) => a - b);
    for (const [i, messages] of this.delivered.entries()) {
      const seqs = messages.filter((m) => m.match_id === this.matchId).map((m) => m.seq);
      const twice = seqs.filter((seq, at) => seqs.indexOf(seq) !== at);
      const missing = sent.filter((seq) => !seqs.includes(seq));
      if (twice.length) problems.push(`bystander ${i} got seqs ${twice.join(',')} twice`);
      if (missing.length) problems.push(`bystander ${i} never got seqs ${missing.join(',')}`);
    }
    return problems;
  }
}

export interface FuzzTarget {
  apiUrl: string;
  /** Where sockets connect (one URL for the embedded default, each gateway for the scaled system). */
  socketUrls: string[];
  jwtSecret: string;
  population: Population;
  image: Buffer;
  hotActor?: boolean;
}

export interface FuzzReport {
  seed: number;
  restSent: number;
  emitsSent: number;
  handshakes: number;
  seconds: number;
  statuses: Map<number, number>;
  ackCodes: Map<string, number>;
  findings: string[];
}

/** REST cases and socket emits at once, `concurrency` REST requests in flight. */
export async function runFuzz(
  target: FuzzTarget,
  seed: number,
  counts: { rest: number; emits: number },
  concurrency = 8,
): Promise<FuzzReport> {
  const report: FuzzReport = {
    seed,
    restSent: 0,
    emitsSent: 0,
    handshakes: 0,
    seconds: 0,
    statuses: new Map(),
    ackCodes: new Map(),
    findings: [],
  };
  const finding = (what: string) => {
    if (report.findings.length < 200) report.findings.push(what);
  };
  const restTarget: RestTarget = {
    apiUrl: target.apiUrl,
    actors: target.population.actors,
    disposable: target.population.disposable,
    matchIds: target.population.matchIds,
    matchOf: target.population.matchOf,
    foreignIds: target.population.foreignIds,
    jwtSecret: target.jwtSecret,
    image: target.image,
    hotActor: target.hotActor,
  };
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let nextRest = 0;
  const restWorker = async () => {
    while (nextRest < counts.rest) {
      const item = buildRestCase(nextRest++, seed, restTarget);
      // Engine.IO's paths go to the API and to every process that serves sockets, in turn; a
      // polling session, which must be served, to the latter only.
      const urls = item.pollsSession ? target.socketUrls : [target.apiUrl, ...target.socketUrls];
      const url = item.path.startsWith('/socket.io/') ? urls[item.n % urls.length]! : target.apiUrl;
      const result = await sendAny(url, agent, item, 30_000);
      report.restSent++;
      if (result.status !== undefined) {
        report.statuses.set(result.status, (report.statuses.get(result.status) ?? 0) + 1);
      }
      const wrong = judge(item, result);
      if (wrong) finding(`REST ${wrong} ← ${describeCase(item)}`);
    }
  };

  const socketActors = target.population.socketActors;
  const sockets: Socket[] = socketActors.map((actor, i) =>
    fuzzSocket(target.socketUrls[i % target.socketUrls.length]!, actor.token, i % 2 === 0),
  );
  let nextEmit = 0;
  const emitWorker = async (socket: Socket, actor: Actor) => {
    let attempts = 0;
    while (report.emitsSent < counts.emits && attempts++ < counts.emits * 4) {
      if (!socket.connected) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const item = buildEmitCase(nextEmit++, seed, restTarget, actor);
      const result = await emitCase(socket, item, 15_000);
      if (result.skipped) continue;
      report.emitsSent++;
      const first = result.ack?.[0] as { ok?: boolean; error?: { code?: string } } | undefined;
      if (first && typeof first === 'object') {
        const code = first.ok ? 'ok' : String(first.error?.code);
        report.ackCodes.set(code, (report.ackCodes.get(code) ?? 0) + 1);
      }
      const wrong = judgeEmit(item, result);
      if (wrong) finding(`socket ${wrong} ← ${describeEmit(item)}`);
      // Ack-less emits do not wait for the server; a tick keeps them from flooding one frame.
      if (!item.withAck) await new Promise((resolve) => setImmediate(resolve));
    }
  };

  // One handshake with a bad token for every ten emits, over every socket address.
  const handshakeWorker = async () => {
    for (let n = 0; n < Math.ceil(counts.emits / 10); n++) {
      const url = target.socketUrls[n % target.socketUrls.length]!;
      const wrong = await tryHandshake(url, n, seed, socketActors[0]!, restTarget);
      report.handshakes++;
      if (wrong) finding(`socket ${wrong}`);
    }
  };
  const started = Date.now();
  try {
    await Promise.all([
      ...Array.from({ length: concurrency }, restWorker),
      handshakeWorker(),
      ...sockets.map((socket, i) => emitWorker(socket, socketActors[i]!)),
    ]);
    report.seconds = (Date.now() - started) / 1000;
    if (process.env.FUZZ_VERBOSE) console.log(summary(report));
  } finally {
    sockets.forEach((socket) => socket.disconnect());
    agent.destroy();
  }
  return report;
}

/** Error-level lines a process logged (pino level 50 and up): a failure nobody was told of. */
export function loggedErrors(processes: RunningProcess[], from = 0): string[] {
  return processes.flatMap((process) =>
    process.logs.slice(from).flatMap((line) => {
      try {
        const entry = JSON.parse(line) as {
          level?: number;
          msg?: string;
          err?: { message?: string };
        };
        return (entry.level ?? 0) >= 50
          ? [`${process.name}: ${entry.msg} ${entry.err?.message ?? ''}`.slice(0, 300)]
          : [];
      } catch {
        return [];
      }
    }),
  );
}

/** The processes that are no longer running, with what they wrote to stderr. */
export function exitedProcesses(processes: RunningProcess[]): string[] {
  return processes
    .filter((p) => p.child.exitCode !== null || p.child.signalCode !== null)
    .map(
      (p) =>
        `${p.name} exited (${p.child.exitCode ?? p.child.signalCode}): ${p.stderr.join('').slice(-1500)}`,
    );
}

/** One line per finding kind and the first examples, for the assertion message. */
export function summary(report: FuzzReport): string {
  return [
    `seed ${report.seed} (replay: FUZZ_SEED=${report.seed}); ${report.restSent} REST, ${report.emitsSent} emits, ${report.handshakes} handshakes in ${report.seconds} s`,
    `statuses ${JSON.stringify(Object.fromEntries(report.statuses))}`,
    `acks ${JSON.stringify(Object.fromEntries(report.ackCodes))}`,
  ].join('\n');
}

export interface SystemUnderFuzz {
  processes: RunningProcess[];
  apiUrl: string;
  /** Where the fuzzer's sockets connect, spread over. */
  socketUrls: string[];
  /** Where each bystander connects (two gateways: the pair spans pods). */
  bystanderUrls: [string, string];
  jwtSecret: string;
}

export interface Outcome {
  report: FuzzReport;
  /** Everything that broke a promise, by kind: each must be empty. */
  broken: {
    seed: number;
    findings: string[];
    healthMisses: string[];
    bystanders: string[];
    exited: string[];
    loggedErrors: string[];
  };
  bystanderMessages: number;
  healthPolls: number;
}

/** Bystander messages acked, and health polls made, for a run to count as having watched. */
const ENOUGH_OBSERVED = 6;

/**
 * One adversarial run: population, bystanders and health watch up, the cases sent, then every
 * promise checked. `during` runs beside the fuzzer (e.g. a burst that must be rate limited).
 */
export async function fuzzSystem(
  system: SystemUnderFuzz,
  seed: number,
  counts: { rest: number; emits: number },
  options: {
    hotActor?: boolean;
    /** Between two bystander sends (200 ms is below the default message limit). */
    bystanderIntervalMs?: number;
    during?: (population: Population) => Promise<void>;
  } = {},
): Promise<Outcome> {
  const population = await makePopulation(system.apiUrl);
  const logsFrom = system.processes.map((p) => p.logs.length);
  const health = new HealthWatch([
    ...new Set([system.apiUrl, ...system.socketUrls, ...system.bystanderUrls]),
  ]);
  const bystanders = new Bystanders(
    system.bystanderUrls,
    population.bystanders,
    population.bystanderMatchId,
  );
  await bystanders.start(options.bystanderIntervalMs ?? 20);
  let report: FuzzReport;
  try {
    [report] = await Promise.all([
      runFuzz(
        {
          apiUrl: system.apiUrl,
          socketUrls: system.socketUrls,
          jwtSecret: system.jwtSecret,
          population,
          image: await smallImage(),
          hotActor: options.hotActor,
        },
        seed,
        counts,
      ),
      options.during?.(population),
    ]);
    // A fuzz faster than the bystanders' pace (200 ms between sends under the default limits)
    // would end before they and the health watch had done enough to show anything: watch on
    // until they have, on the system the fuzz just hit.
    const enoughBy = Date.now() + 30_000;
    while (
      (bystanders.acked.length < ENOUGH_OBSERVED || health.polls < ENOUGH_OBSERVED) &&
      Date.now() < enoughBy
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await bystanders.stop();
    await health.stop();
  }
  return {
    report,
    broken: {
      seed,
      findings: report.findings,
      healthMisses: health.misses,
      bystanders: bystanders.problems(),
      exited: exitedProcesses(system.processes),
      loggedErrors: system.processes.flatMap((p, i) => loggedErrors([p], logsFrom[i])),
    },
    bystanderMessages: bystanders.acked.length,
    healthPolls: health.polls,
  };
}

/** The outcome every run must have: nothing broken, and enough of everything happened. */
export const UNBROKEN = (seed: number) => ({
  seed,
  findings: [],
  healthMisses: [],
  bystanders: [],
  exited: [],
  loggedErrors: [],
});

/**
 * In the calling `describe`: `apps/embedded` as users run it, a real process on PGlite in a fresh
 * data directory, started before its tests and stopped (SIGTERM, exit code 0) after them.
 */
export function useEmbeddedProcess(env: Record<string, string>): () => RunningProcess {
  let dataDir: string | undefined;
  let embedded: RunningProcess | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mm-fuzz-'));
    embedded = await startApp(
      'embedded',
      { DATA_DIR: dataDir, PHOTO_MAX_BYTES: FUZZ_PHOTO_MAX_BYTES, ...env },
      60_000,
    );
  }, 90_000);
  afterAll(async () => {
    const code = await embedded?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });
  return () => embedded!;
}

/** The one process of the embedded default as the system under test: API and sockets alike. */
export function embeddedSystem(embedded: RunningProcess, jwtSecret: string): SystemUnderFuzz {
  return {
    processes: [embedded],
    apiUrl: embedded.url,
    socketUrls: [embedded.url],
    bystanderUrls: [embedded.url, embedded.url],
    jwtSecret,
  };
}

/** Every promise held, and at least the asked-for volume sent. */
export function expectUnbroken(outcome: Outcome, counts: { rest: number; emits: number }): void {
  expect(outcome.broken).toEqual(UNBROKEN(outcome.report.seed));
  expect(outcome.report.restSent).toBeGreaterThanOrEqual(counts.rest);
  expect(outcome.report.emitsSent).toBeGreaterThanOrEqual(counts.emits);
  expect(outcome.bystanderMessages).toBeGreaterThanOrEqual(ENOUGH_OBSERVED);
  expect(outcome.healthPolls).toBeGreaterThanOrEqual(ENOUGH_OBSERVED);
}
