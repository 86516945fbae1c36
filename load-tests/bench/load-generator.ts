// The bench's load generator, a process of its own (forked by generator.ts, compiled to
// dist/load-generator.js by esbuild before the bench runs), so that what it costs is measured
// apart from the systems it drives and it cannot set their ceiling. It does what a client must
// and little more: plain socket.io-client over WebSocket, no schema parsing, one constant body,
// the message's number inside its client_id, and send times, ack flags and delivery counts in
// typed arrays sized before a step starts; latencies go to fixed-bucket histograms. It answers
// the bench over IPC (see `Request`): connect a group of sockets, run one step, disconnect.
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { LatencyHistogram } from './histogram';
import { round, type LatencySummary } from './stats';

/** One socket to open: where, and what it sends in the handshake. */
export interface SocketSpec {
  url: string;
  auth: Record<string, unknown>;
  /** The match its messages go to (chat pairs only). */
  matchId?: number;
}

export type Request =
  | {
      kind: 'connect';
      group: string;
      /** Chat: [side A, side B] per pair, A and B partners. Idle sockets: one socket per entry. */
      pairs?: [SocketSpec, SocketSpec][];
      sockets?: SocketSpec[];
      concurrency: number;
    }
  | { kind: 'run'; group: string; rate: number; seconds: number; runId: string }
  | { kind: 'disconnect'; group: string };

/** What one step measured, as the generator saw it. */
export interface StepResult {
  rate_per_s: number;
  seconds: number;
  sent: number;
  acked: number;
  delivered: number;
  /** Acked but never delivered to the partner. */
  lost: number;
  /** Deliveries beyond the first of a message. */
  duplicated: number;
  /** Delivered to a socket other than the sender's partner. */
  misrouted: number;
  /** Sent but neither acked nor refused within the settle time. */
  unacked: number;
  /** Acked `ok: false`. */
  errors: number;
  /** Messages sent per second of the sending phase: below the rate, the generator fell behind. */
  sent_per_s: number;
  achieved_per_s: number;
  /** From send to the partner's `message:new`. */
  latency: LatencySummary;
  /** From send to the sender's ack. */
  ack_latency: LatencySummary;
  generator: {
    /** The generator's own CPU (process.cpuUsage) over the step, settle time included. */
    cpu_ms: number;
    cpu_ms_per_1k_messages: number;
    /** Its CPU over the step's wall time: 100 is one whole core. */
    cpu_percent_of_one_core: number;
    /** How late its event loop ran timers, p99: a busy generator delays its own sends. */
    event_loop_delay_p99_ms: number;
  };
}

export type Reply =
  | { kind: 'ready' }
  | { kind: 'connected'; sockets: number }
  | { kind: 'error'; message: string }
  | StepResult;

interface Group {
  sockets: Socket[];
  /** The partner's index in `sockets`, for each socket (chat pairs: 2i and 2i + 1). */
  partnerOf: Int32Array;
  matchOf: Int32Array;
}

/** The step under way: what was sent, acked and delivered, by message number. */
interface Step {
  group: Group;
  /** `<runId>.<step number>:`, unique in the generator's life, so a late message of an earlier step is never counted. */
  prefix: string;
  sentAt: Float64Array;
  senderOf: Int32Array;
  acked: Uint8Array;
  deliveries: Uint8Array;
  sent: number;
  ackedCount: number;
  deliveredCount: number;
  duplicated: number;
  misrouted: number;
  errors: number;
  endToEnd: LatencyHistogram;
  toAck: LatencyHistogram;
}

const BODY = 'a bench message of about the size of a short chat line';
const groups = new Map<string, Group>();
let step: Step | undefined;
let steps = 0;

/** The message number in a client_id `<prefix><n>`, or -1 if it is not this step's. */
function numberIn(clientId: unknown, current: Step): number {
  if (typeof clientId !== 'string' || !clientId.startsWith(current.prefix)) return -1;
  let n = 0;
  for (let i = current.prefix.length; i < clientId.length; i++) {
    const digit = clientId.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n < current.sent ? n : -1;
}

function onDelivered(group: Group, receiver: number, message: { client_id?: unknown }) {
  const current = step;
  if (current?.group !== group) return;
  const n = numberIn(message?.client_id, current);
  if (n < 0) return;
  const count = current.deliveries[n]!;
  if (count < 255) current.deliveries[n] = count + 1;
  if (count > 0) {
    current.duplicated++;
    return;
  }
  current.deliveredCount++;
  if (group.partnerOf[current.senderOf[n]!] !== receiver) current.misrouted++;
  else current.endToEnd.record(performance.now() - current.sentAt[n]!);
}

/** One ack callback for every send: the ack names its message by client_id. */
function onAck(response: { ok?: boolean; message?: { client_id?: unknown } }) {
  const current = step;
  if (!current) return;
  if (response?.ok !== true) {
    current.errors++;
    return;
  }
  const n = numberIn(response.message?.client_id, current);
  if (n < 0 || current.acked[n]) return;
  current.acked[n] = 1;
  current.ackedCount++;
  current.toAck.record(performance.now() - current.sentAt[n]!);
}

function openSocket(spec: SocketSpec): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(spec.url, {
      auth: spec.auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

async function connect(request: Extract<Request, { kind: 'connect' }>): Promise<Reply> {
  const specs = request.pairs?.flat() ?? request.sockets ?? [];
  const sockets: Socket[] = [];
  for (let i = 0; i < specs.length; i += request.concurrency) {
    sockets.push(...(await Promise.all(specs.slice(i, i + request.concurrency).map(openSocket))));
  }
  const group: Group = {
    sockets,
    partnerOf: new Int32Array(sockets.length).map((_, i) => (request.pairs ? i ^ 1 : -1)),
    matchOf: new Int32Array(specs.map((spec) => spec.matchId ?? 0)),
  };
  if (request.pairs) {
    sockets.forEach((socket, i) =>
      socket.on('message:new', (message: { client_id?: unknown }) =>
        onDelivered(group, i, message),
      ),
    );
  }
  groups.set(request.group, group);
  return { kind: 'connected', sockets: sockets.length };
}

/**
 * Sends `rate` messages a second for `seconds` over the group's pairs in 10 ms ticks, A to B then
 * B to A pair by pair, and waits up to 5 s for the acks and deliveries still in flight.
 */
async function run(request: Extract<Request, { kind: 'run' }>): Promise<StepResult> {
  const group = groups.get(request.group);
  if (!group) throw new Error(`no group ${request.group}`);
  const { rate, seconds } = request;
  const capacity = Math.ceil(rate * seconds) + 1;
  const current: Step = {
    group,
    prefix: `${request.runId}.${++steps}:`,
    sentAt: new Float64Array(capacity),
    senderOf: new Int32Array(capacity),
    acked: new Uint8Array(capacity),
    deliveries: new Uint8Array(capacity),
    sent: 0,
    ackedCount: 0,
    deliveredCount: 0,
    duplicated: 0,
    misrouted: 0,
    errors: 0,
    endToEnd: new LatencyHistogram(),
    toAck: new LatencyHistogram(),
  };
  step = current;
  const pairs = group.sockets.length / 2;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuBefore = process.cpuUsage();

  const tickMs = 10;
  const ticks = Math.round((seconds * 1000) / tickMs);
  const perTick = (rate * tickMs) / 1000;
  let debt = 0;
  const started = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    debt += perTick;
    for (; debt >= 1 && current.sent < capacity; debt--) {
      const n = current.sent;
      const sender = 2 * (n % pairs) + (Math.floor(n / pairs) % 2);
      current.senderOf[n] = sender;
      current.sentAt[n] = performance.now();
      current.sent = n + 1;
      group.sockets[sender]!.emit(
        'message:send',
        { match_id: group.matchOf[sender], client_id: current.prefix + n, body: BODY },
        onAck,
      );
    }
    const wait = started + (tick + 1) * tickMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const sendingSeconds = (performance.now() - started) / 1000;
  const settleUntil = performance.now() + 5_000;
  while (
    performance.now() < settleUntil &&
    (current.ackedCount + current.errors < current.sent ||
      current.deliveredCount < current.ackedCount)
  ) {
    await sleep(20);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = performance.now() - started;
  loopDelay.disable();
  step = undefined;

  let lost = 0;
  for (let n = 0; n < current.sent; n++) {
    if (current.acked[n] && current.deliveries[n] === 0) lost++;
  }
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    rate_per_s: rate,
    seconds,
    sent: current.sent,
    acked: current.ackedCount,
    delivered: current.deliveredCount,
    lost,
    duplicated: current.duplicated,
    misrouted: current.misrouted,
    unacked: current.sent - current.ackedCount - current.errors,
    errors: current.errors,
    sent_per_s: Math.round(current.sent / sendingSeconds),
    achieved_per_s: Math.round(current.ackedCount / sendingSeconds),
    latency: current.endToEnd.summary(),
    ack_latency: current.toAck.summary(),
    generator: {
      cpu_ms: round(cpuMs),
      cpu_ms_per_1k_messages: round((cpuMs / Math.max(1, current.deliveredCount)) * 1000),
      cpu_percent_of_one_core: round((cpuMs / wallMs) * 100),
      event_loop_delay_p99_ms: round(loopDelay.percentile(99) / 1e6),
    },
  };
}

function disconnect(name: string): Reply {
  groups.get(name)?.sockets.forEach((socket) => socket.disconnect());
  groups.delete(name);
  return { kind: 'connected', sockets: 0 };
}

function answer(request: Request): Promise<Reply> | Reply {
  switch (request.kind) {
    case 'connect':
      return connect(request);
    case 'run':
      return run(request);
    case 'disconnect':
      return disconnect(request.group);
  }
}

// One request at a time: the bench awaits each reply before it sends the next.
process.on('message', (request: Request) => {
  void Promise.resolve()
    .then(() => answer(request))
    .then(
      (reply) => process.send!(reply),
      (error: unknown) => process.send!({ kind: 'error', message: String(error) } satisfies Reply),
    );
});
process.on('disconnect', () => process.exit(0));
process.send!({ kind: 'ready' } satisfies Reply);
