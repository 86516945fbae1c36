import { io } from 'socket.io-client';
import { ChatClient, type ChatSocket } from '@mm/client';
import { TokenService } from '@mm/core';
import type { RunningProcess } from './processes';
import { eventually } from './http';
import { SwitchProxy } from './realtime';

/**
 * A reconnect storm, shared by the system test (a few hundred sockets) and `npm run bench:storm`
 * (10,000): SDK clients (ChatClient, with its own backoff and jitter) reach a gateway through a
 * proxy standing in for the load balancer; the gateway is killed with SIGKILL, the proxy sends new
 * connections round-robin to the survivors, and every client reconnects and syncs its match while
 * partners on a survivor keep sending. Then every message acked during the storm must be held by
 * its receiver exactly once.
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
  /** Clients that connect at once while the storm is being set up. */
  connectConcurrency?: number;
  /** How long the storm may take to settle before the harness gives up. */
  settleTimeoutMs?: number;
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
  /** Kills the doomed gateway and resolves once every receiver is ready and has every message. */
  unleash(): Promise<StormResult>;
  close(): Promise<void>;
}

interface Receiver {
  client: ChatClient;
  readyAt?: number;
  /** Times each seq of its match arrived. */
  held: Map<number, number>;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

/** Connects every receiver through the proxy to the doomed gateway and every sender to a survivor. */
export async function prepareStorm(options: StormOptions): Promise<Storm> {
  const { doomed, survivors, pairs, senders, messagesPerSender } = options;
  const tokens = new TokenService(options.jwtSecret);
  const proxy = await new SwitchProxy(doomed.port).listen();
  const counts = { refused: 0, transport: 0 };
  let storming = false;
  // The SDK's own socket, watched for refusals: ChatClient retries them itself.
  const createSocket = (url: string, socketOptions: object) => {
    const socket = io(url, socketOptions) as unknown as ChatSocket;
    socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      if (!storming) return;
      if (error.data?.code) counts.refused++;
      else counts.transport++;
    });
    return socket;
  };
  const receivers: Receiver[] = [];
  const senderClients: ChatClient[] = [];
  const close = async () => {
    [...receivers.map((r) => r.client), ...senderClients].forEach((client) => client.close());
    await proxy.close();
  };
  try {
    const concurrency = options.connectConcurrency ?? 200;
    for (let i = 0; i < pairs.length; i += concurrency) {
      await Promise.all(
        pairs.slice(i, i + concurrency).map(({ matchId, userB }) => {
          const receiver: Receiver = {
            client: new ChatClient({
              url: proxy.url,
              token: tokens.sign(userB),
              lastSeqs: { [matchId]: 0 },
              createSocket,
            }),
            held: new Map(),
          };
          receiver.client.on('message', (message) =>
            receiver.held.set(message.seq, (receiver.held.get(message.seq) ?? 0) + 1),
          );
          receivers.push(receiver);
          return new Promise<void>((resolve, reject) => {
            // Refused for good (a bad token): the storm could never settle.
            receiver.client.on('error', (error) =>
              reject(new Error(`user ${userB}: ${error.code} ${error.message}`)),
            );
            receiver.client.on('ready', () => {
              if (storming) receiver.readyAt ??= performance.now();
              resolve();
            });
            receiver.client.connect();
          });
        }),
      );
    }
    for (const { userA } of pairs.slice(0, senders)) {
      senderClients.push(
        new ChatClient({ url: survivors[0]!.url, token: tokens.sign(userA) }).connect(),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    clients: receivers.length,
    close,
    async unleash() {
      storming = true;
      const killedAt = performance.now();
      doomed.child.kill('SIGKILL');
      // The load balancer takes the dead pod out: new connections go to the survivors in turn.
      proxy.targets = survivors.map((s) => s.port);
      const sends = senderClients.map(async (client, p) => {
        const acked: number[] = [];
        for (let m = 0; m < messagesPerSender; m++) {
          acked.push(
            (await client.send(pairs[p]!.matchId, `storm ${p}.${m}`, `storm-${p}-${m}`)).seq,
          );
        }
        return acked;
      });
      const timeoutMs = options.settleTimeoutMs ?? 60_000;
      await eventually(
        async () => receivers.filter((r) => r.readyAt !== undefined).length,
        (ready) => ready === receivers.length,
        timeoutMs,
      );
      const acked = await Promise.all(sends);
      await eventually(
        async () =>
          acked.every(
            (seqs, p) => receivers[p]!.client.lastSeq(pairs[p]!.matchId) >= Math.max(0, ...seqs),
          ),
        (done) => done,
        timeoutMs,
      );
      let lost = 0;
      let duplicated = 0;
      acked.forEach((seqs, p) => {
        for (const seq of seqs) {
          const times = receivers[p]!.held.get(seq) ?? 0;
          if (times === 0) lost++;
          if (times > 1) duplicated += times - 1;
        }
      });
      const readyMs = receivers.map((r) => r.readyAt! - killedAt).sort((a, b) => a - b);
      return {
        clients: receivers.length,
        ready_50_ms: Math.round(quantile(readyMs, 0.5)),
        ready_99_ms: Math.round(quantile(readyMs, 0.99)),
        ready_100_ms: Math.round(readyMs.at(-1)!),
        refused_handshakes: counts.refused,
        transport_errors: counts.transport,
        sent: acked.flat().length,
        lost,
        duplicated,
      };
    },
  };
}
