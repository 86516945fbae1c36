import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ChatClient } from '@mm/client';
import { TokenService } from '@mm/core';
import type { RunningProcess } from './processes';
import { killPod } from './realtime';
import type { FromWorker, ToWorker, WorkerClient } from './reconnect-storm-worker';

/**
 * A reconnect storm, shared by the system test (a few hundred sockets) and `npm run bench:storm`
 * (10,000): SDK clients (ChatClient, with its own backoff and jitter) reach a gateway through a
 * proxy standing in for the load balancer; the gateway is killed with SIGKILL, the proxy sends new
 * connections round-robin to the survivors, and every client reconnects and syncs its match while
 * partners on a survivor keep sending. Then every message acked during the storm must be held by
 * its receiver exactly once.
 *
 * The receivers live in worker processes (reconnect-storm-worker.ts), each with its own proxy:
 * a client costs three file descriptors where it and its proxy run, so one process could not hold
 * 10,000 under the usual open-files limit, and one event loop would time itself on one core.
 */

/**
 * One match (as `seedMatchedPairs` makes them): user A sends from a surviving gateway, user B
 * receives through the storm.
 */
export interface StormPair {
  matchId: number;
  userA: number;
  userB: number;
}

export interface StormOptions {
  doomed: RunningProcess;
  survivors: RunningProcess[];
  pairs: StormPair[];
  /** Signs each user's token (the gateways' JWT_SECRET). */
  jwtSecret: string;
  /** How many pairs' senders send during the storm (the first ones), and how many messages each. */
  senders: number;
  messagesPerSender: number;
  /** Clients that connect at once, per worker, while the storm is being set up. */
  connectConcurrency?: number;
  /** How long the storm may take to settle before the harness gives up. */
  settleTimeoutMs?: number;
  /** Receivers per worker process (2,500: 7,500 file descriptors each). */
  clientsPerWorker?: number;
  /** Node flags of the workers (the bench's `--single-threaded-gc`, a CPU profile). */
  nodeArgs?: string[];
}

export interface StormResult {
  clients: number;
  /** Milliseconds from the kill until that share of the receivers was connected and caught up. */
  ready_50_ms: number;
  ready_99_ms: number;
  ready_100_ms: number;
  /** Handshakes the gateways refused with a code (rate limited, unavailable, ...). */
  refused_handshakes: number;
  /** Connection attempts that failed below Socket.IO (nothing listening, connection cut). */
  transport_errors: number;
  sent: number;
  lost: number;
  duplicated: number;
}

/** A storm ready to start: every receiver connected to the doomed gateway and caught up. */
export interface Storm {
  clients: number;
  /** The worker processes holding the receivers and their proxies (their CPU is the clients'). */
  workerPids: number[];
  /** Kills the doomed gateway and resolves once every receiver is ready and has every message. */
  unleash(): Promise<StormResult>;
  close(): Promise<void>;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

/**
 * The address a load balancer puts in X-Forwarded-For for user number `n` (the gateways trust one
 * hop when scaled): every user its own, so the per-address handshake limit is the deployment's.
 */
const addressOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const SENDER_ADDRESSES = 1 << 23; // 10.128.0.0 and up

/** A worker process, asked one thing at a time. */
class StormWorker {
  private pending?: { resolve(reply: FromWorker): void; reject(error: Error): void };
  private readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: FromWorker) => {
      const pending = this.pending;
      this.pending = undefined;
      if (reply.type === 'failed') pending?.reject(new Error(`storm worker: ${reply.error}`));
      else pending?.resolve(reply);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.pending?.reject(new Error(`storm worker exited (${code ?? signal})`));
        this.pending = undefined;
        resolve();
      }),
    );
  }

  static start(nodeArgs: string[]): StormWorker {
    return new StormWorker(
      fork(path.join(__dirname, 'reconnect-storm-worker.ts'), [], {
        cwd: path.resolve(__dirname, '../../..'),
        execArgv: [...nodeArgs, '--conditions=source', '--import', 'tsx'],
        // stdout is the bench's result: a worker only ever writes errors, to stderr.
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `message` and resolves with the worker's reply, which must be of type `expected`. */
  ask<T extends FromWorker['type']>(
    expected: T,
    message: ToWorker,
  ): Promise<Extract<FromWorker, { type: T }>> {
    if (this.pending) return Promise.reject(new Error('storm worker is busy'));
    return new Promise((resolve, reject) => {
      this.pending = {
        resolve: (reply) =>
          reply.type === expected
            ? resolve(reply as Extract<FromWorker, { type: T }>)
            : reject(new Error(`storm worker answered ${reply.type}, not ${expected}`)),
        reject,
      };
      this.child.send(message);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await this.ask('closed', { type: 'close' }).catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/** Connects every receiver through the proxies to the doomed gateway and every sender to a survivor. */
export async function prepareStorm(options: StormOptions): Promise<Storm> {
  const { doomed, survivors, pairs, senders, messagesPerSender } = options;
  const perWorker = options.clientsPerWorker ?? 2_500;
  const shares: StormPair[][] = [];
  for (let i = 0; i < pairs.length; i += perWorker) shares.push(pairs.slice(i, i + perWorker));
  const workers = shares.map(() => StormWorker.start(options.nodeArgs ?? []));
  const senderClients: ChatClient[] = [];
  const close = async () => {
    senderClients.forEach((client) => client.close());
    await Promise.all(workers.map((worker) => worker.close()));
  };
  try {
    await Promise.all(
      workers.map((worker, w) =>
        worker.ask('prepared', {
          type: 'prepare',
          target: doomed.port,
          jwtSecret: options.jwtSecret,
          clients: shares[w]!.map<WorkerClient>(({ matchId, userB }, i) => ({
            matchId,
            userId: userB,
            address: addressOf(w * perWorker + i),
          })),
          connectConcurrency: options.connectConcurrency ?? 200,
        }),
      ),
    );
    const tokens = new TokenService(options.jwtSecret);
    pairs.slice(0, senders).forEach(({ userA }, p) =>
      senderClients.push(
        new ChatClient({
          url: survivors[0]!.url,
          token: tokens.sign(userA),
          socket: { extraHeaders: { 'x-forwarded-for': addressOf(SENDER_ADDRESSES + p) } },
        }).connect(),
      ),
    );
  } catch (error) {
    await close();
    throw error;
  }

  return {
    clients: pairs.length,
    workerPids: workers.map((worker) => worker.pid),
    close,
    async unleash() {
      // The load balancer takes the dead pod out: new connections go to the survivors in turn.
      const killedAt = await killPod(doomed, () =>
        Promise.all(
          workers.map((worker) =>
            worker.ask('storming', { type: 'storm', targets: survivors.map((s) => s.port) }),
          ),
        ),
      );
      const sends = senderClients.map(async (client, p) => {
        const acked: number[] = [];
        for (let m = 0; m < messagesPerSender; m++) {
          acked.push(
            (await client.send(pairs[p]!.matchId, `storm ${p}.${m}`, `storm-${p}-${m}`)).seq,
          );
        }
        return acked;
      });
      const acked = await Promise.all(sends);
      const lastAcked = new Map(acked.map((seqs, p) => [pairs[p]!.matchId, Math.max(0, ...seqs)]));
      const settled = await Promise.all(
        workers.map((worker, w) =>
          worker.ask('settled', {
            type: 'settle',
            expect: shares[w]!.flatMap<[number, number]>(({ matchId }) =>
              lastAcked.has(matchId) ? [[matchId, lastAcked.get(matchId)!]] : [],
            ),
            timeoutMs: options.settleTimeoutMs ?? 60_000,
          }),
        ),
      );
      const held = new Map(settled.flatMap((s) => s.held).map(([m, seqs]) => [m, new Map(seqs)]));
      let lost = 0;
      let duplicated = 0;
      acked.forEach((seqs, p) => {
        for (const seq of seqs) {
          const times = held.get(pairs[p]!.matchId)?.get(seq) ?? 0;
          if (times === 0) lost++;
          if (times > 1) duplicated += times - 1;
        }
      });
      const readyMs = settled
        .flatMap((s) => s.readyAt)
        .map((at) => at - killedAt)
        .sort((a, b) => a - b);
      return {
        clients: pairs.length,
        ready_50_ms: Math.round(quantile(readyMs, 0.5)),
        ready_99_ms: Math.round(quantile(readyMs, 0.99)),
        ready_100_ms: Math.round(readyMs.at(-1)!),
        refused_handshakes: settled.reduce((sum, s) => sum + s.refused, 0),
        transport_errors: settled.reduce((sum, s) => sum + s.transport, 0),
        sent: acked.flat().length,
        lost,
        duplicated,
      };
    },
  };
}
