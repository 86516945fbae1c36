// The bench's fan-out step (`BENCH_ONLY=fanout`): what each gateway pod reads from the Redis
// adapter per message sent, with the classic adapter and with the sharded one (docs/design.md §5),
// counted by each gateway's `mm_adapter_messages_received_total`, beside latency and CPU.
import { setTimeout as sleep } from 'node:timers/promises';
import { get, total } from '@mm/test-support/http';
import { socketSpec } from './chat-load';
import type { LoadGenerator, StepResult } from './generator';
import { round } from './stats';
import {
  cpuMsOf,
  cpuUse,
  gatewayPairs,
  startScaledSystem,
  type AdapterMode,
  type StartedSystem,
} from './systems';

/** Four gateways: six gateway pairs, each gateway in three of them. */
export const FANOUT_GATEWAYS = 4;
const MODES: AdapterMode[] = ['classic', 'sharded'];
/**
 * Two systems of five processes each, up at once beside whatever else uses the local PostgreSQL
 * (100 connections by default): at 20 a process they may open 200, and on a busy machine the
 * handshakes were refused ("Try again shortly": no pool connection in 5 s). One writer lane and
 * the handshakes' reads need few; how fast a connection opens under load is not measured here.
 */
const SMALL_POOLS = { DATABASE_POOL_SIZE: '5', DATABASE_ACQUIRE_TIMEOUT_MS: '30000' };

export interface FanoutSettings {
  /** Chat pairs per system: a multiple of the gateway pairs (6), so each is used equally. */
  pairs: number;
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Steps per mode, the modes taking turns. */
  rounds: number;
}

/** One step of one mode: what the generator measured, and what the gateways read and spent. */
export type FanoutStep = StepResult & {
  /** Per gateway, in order: adapter messages it read from Redis over the step. */
  adapter_messages_received: number[];
  /** Per gateway: `adapter_messages_received` over `sent`. */
  ratio_to_sent: number[];
  /** CPU per 1,000 messages sent: the four gateways together, and Redis (the whole server). */
  cpu_ms_per_1k_messages: { gateways: number; redis: number };
};

/** One mode over all its steps: the sums' ratios, and each step. */
export interface FanoutMode {
  adapter: AdapterMode;
  sent: number;
  acked: number;
  adapter_messages_received: number[];
  ratio_to_sent: number[];
  /** The mean of the gateways' ratios: what one gateway reads per message sent. */
  ratio_to_sent_mean: number;
  /**
   * u, the broadcasts to a user room per acked message, as the reads imply (`userRoomShare`):
   * what the coalescing of `unread:total` left, which depends on the timing of the run.
   */
  user_room_broadcasts_per_message: number;
  steps: FanoutStep[];
}

export interface FanoutResult {
  gateways: number;
  pairs: number;
  placement: string;
  rate_per_s: number;
  seconds: number;
  classic: FanoutMode;
  sharded: FanoutMode;
  /** Sharded's mean ratio over classic's. */
  sharded_over_classic: number;
}

/**
 * What a gateway should read per message, and so what the reads imply of u. A pair's message is
 * one broadcast to its match room, whose sockets sit on two of the four gateways, and u
 * broadcasts to a user room, on one gateway: `unread:total` to the recipient (u ≤ 1: the totals
 * of one event-loop turn go out once per match and sender, so a busy pod sends fewer) and now and
 * then `match:unlocked`. The classic adapter gives every broadcast to every gateway: 1 + u per
 * message. The sharded one gives the match room's to the 2 gateways of 4 that hold it and the
 * user room's to 1 of 4: 1/2 + u/4, all four gateways together 2 + u. At the same u, sharded over
 * classic is (2 + u) / (4 (1 + u)): 3/8 at u = 1, 1/2 at u = 0.
 */
function userRoomShare(mode: AdapterMode, received: number[], acked: number): number {
  const all = received.reduce((a, b) => a + b, 0);
  const perMessage = mode === 'classic' ? all / received.length : all;
  const matchRoomReads = mode === 'classic' ? 1 : 2;
  return round(perMessage / Math.max(1, acked) - matchRoomReads, 3);
}

/** Refuses settings the step cannot measure, with the setting's name. */
export function checkFanoutSettings(settings: FanoutSettings): void {
  const combinations = gatewayPairs(FANOUT_GATEWAYS).length;
  if (
    !Number.isInteger(settings.pairs) ||
    settings.pairs <= 0 ||
    settings.pairs % combinations !== 0
  )
    throw new Error(
      `BENCH_FANOUT_PAIRS must be a positive multiple of ${combinations} (the gateway pairs of ` +
        `${FANOUT_GATEWAYS} gateways, each used by as many chat pairs), not ${settings.pairs}`,
    );
  for (const [name, value] of [
    ['BENCH_FANOUT_RATE', settings.rate],
    ['BENCH_FANOUT_SECONDS', settings.seconds],
  ] as const)
    if (!(value > 0)) throw new Error(`${name} must be a positive number, not ${value}`);
}

const adapterReads = (system: StartedSystem) =>
  Promise.all(
    system.gateways.map(async (gateway) =>
      total(
        (await get<string>(`${gateway.url}/metrics`)).text,
        'mm_adapter_messages_received_total',
      ),
    ),
  );

/**
 * The gateways' counts once they stop moving: the partner's gateway has delivered, but under the
 * classic adapter the other three may still be reading the last broadcasts, and the unread totals
 * go out after the messages. Up to 10 s; the counts, not this wait, are what the step reports.
 */
async function settledReads(system: StartedSystem): Promise<number[]> {
  let last = await adapterReads(system);
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    const now = await adapterReads(system);
    if (now.every((count, g) => count === last[g])) return now;
    last = now;
  }
  return last;
}

const gatewaysCpu = (system: StartedSystem) =>
  system.gateways.reduce((sum, gateway) => sum + cpuMsOf(gateway.child.pid ?? 0), 0);

async function fanoutStep(
  generator: LoadGenerator,
  system: StartedSystem,
  settings: FanoutSettings,
  runId: string,
): Promise<FanoutStep> {
  const before = await settledReads(system);
  const cpuBefore = { gateways: gatewaysCpu(system), redis: cpuUse(system).redis };
  const result: StepResult = await generator.runStep(
    system.adapter,
    settings.rate,
    settings.seconds,
    runId,
  );
  const after = await settledReads(system);
  const cpuAfter = { gateways: gatewaysCpu(system), redis: cpuUse(system).redis };
  const received = after.map((count, g) => count - before[g]!);
  const sent = Math.max(1, result.sent);
  const per1k = (key: 'gateways' | 'redis') =>
    round(((cpuAfter[key] - cpuBefore[key]) / sent) * 1000);
  return {
    ...result,
    adapter_messages_received: received,
    ratio_to_sent: received.map((count) => round(count / sent, 3)),
    cpu_ms_per_1k_messages: { gateways: per1k('gateways'), redis: per1k('redis') },
  };
}

function summary(adapter: AdapterMode, steps: FanoutStep[]): FanoutMode {
  const sent = steps.reduce((sum, s) => sum + s.sent, 0);
  const acked = steps.reduce((sum, s) => sum + s.acked, 0);
  const received = Array.from({ length: FANOUT_GATEWAYS }, (_, g) =>
    steps.reduce((sum, s) => sum + s.adapter_messages_received[g]!, 0),
  );
  const ratios = received.map((count) => count / Math.max(1, sent));
  return {
    adapter,
    sent,
    acked,
    adapter_messages_received: received,
    ratio_to_sent: ratios.map((r) => round(r, 3)),
    ratio_to_sent_mean: round(ratios.reduce((a, b) => a + b, 0) / ratios.length, 3),
    user_room_broadcasts_per_message: userRoomShare(adapter, received, acked),
    steps,
  };
}

/**
 * Starts the scaled system twice, with four gateways each, once per adapter mode, and connects
 * `pairs` chat pairs to each, each pair's two sides on two different gateways and every two
 * gateways holding as many pairs. Warms both up, then runs `rounds` steps of `rate` messages a
 * second for `seconds` per mode, the modes taking turns (the order rotating), and reads each
 * gateway's adapter count before and after every step.
 */
export async function adapterFanout(
  generator: LoadGenerator,
  settings: FanoutSettings,
): Promise<FanoutResult> {
  checkFanoutSettings(settings);
  const systems: StartedSystem[] = [];
  try {
    for (const adapter of MODES) {
      const system = await startScaledSystem({
        gateways: FANOUT_GATEWAYS,
        adapter,
        env: SMALL_POOLS,
      });
      systems.push(system);
      const pairs = await system.participants(settings.pairs);
      await generator.connectPairs(
        adapter,
        pairs.map(([a, b]) => [socketSpec(a), socketSpec(b)]),
      );
    }
    if (settings.warmupSeconds > 0) {
      for (const system of systems) {
        await generator.runStep(system.adapter, settings.rate, settings.warmupSeconds, 'fw');
      }
    }
    const steps = new Map<AdapterMode, FanoutStep[]>(MODES.map((mode) => [mode, []]));
    for (let r = 0; r < settings.rounds; r++) {
      for (let i = 0; i < systems.length; i++) {
        const system = systems[(i + r) % systems.length]!;
        const step = await fanoutStep(generator, system, settings, `f${r}`);
        steps.get(system.adapter)!.push(step);
        console.error(
          `fan-out ${r + 1}, ${system.adapter} @ ${settings.rate}/s: ${step.sent} sent, read ` +
            `per gateway ${step.ratio_to_sent.join(' / ')} of them; p99 ${step.latency.p99_ms} ms; ` +
            `CPU per 1k: ${JSON.stringify(step.cpu_ms_per_1k_messages)}`,
        );
      }
    }
    const classic = summary('classic', steps.get('classic')!);
    const sharded = summary('sharded', steps.get('sharded')!);
    return {
      gateways: FANOUT_GATEWAYS,
      pairs: settings.pairs,
      placement:
        'each pair across two different gateways, every two gateways holding as many pairs',
      rate_per_s: settings.rate,
      seconds: settings.seconds,
      classic,
      sharded,
      sharded_over_classic: round(
        sharded.ratio_to_sent_mean / Math.max(1e-9, classic.ratio_to_sent_mean),
        3,
      ),
    };
  } finally {
    for (const system of systems) {
      await generator.disconnect(system.adapter).catch(() => undefined); // stop the system anyway
      await system.stop();
    }
  }
}
