// A process of the reconnect storm (reconnect-storm.ts): its share of the receivers and a load
// balancer of its own in front of the gateways. Each client costs this process three file
// descriptors (its socket and both ends of the proxy's connection), so 10,000 clients are spread
// over several of these, each well under the open-files limit, and over both cores.
import { io } from 'socket.io-client';
import { ChatClient, type ChatSocket } from '@mm/client';
import { TokenService } from '@mm/core';
import { eventually } from './http';
import { SwitchProxy } from './realtime';

/** One receiver: user B of a match, and the address the load balancer reports for it. */
export interface WorkerClient {
  matchId: number;
  userId: number;
  address: string;
}

export type ToWorker =
  | {
      type: 'prepare';
      /** The doomed gateway's port: every receiver connects to it through the proxy. */
      target: number;
      jwtSecret: string;
      clients: WorkerClient[];
      connectConcurrency: number;
    }
  /** From now on the proxy sends new connections round-robin to `targets` (the survivors). */
  | { type: 'storm'; targets: number[] }
  /**
   * Resolves once every receiver is ready again and holds each match up to its seq in `expect`
   * ([matchId, seq] pairs), with when each became ready and what it holds of those matches.
   */
  | { type: 'settle'; expect: [number, number][]; timeoutMs: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'prepared' }
  | { type: 'storming' }
  | {
      type: 'settled';
      /** Epoch milliseconds at which each receiver was first ready after `storm`. */
      readyAt: number[];
      refused: number;
      transport: number;
      /** Per expected match: [seq, times it arrived] of every seq held. */
      held: [number, [number, number][]][];
    }
  | { type: 'closed' }
  | { type: 'failed'; error: string };

interface Receiver {
  client: ChatClient;
  matchId: number;
  readyAt?: number;
  /** Times each seq of its match arrived. */
  held: Map<number, number>;
}

const receivers: Receiver[] = [];
let proxy: SwitchProxy | undefined;
let storming = false;
const counts = { refused: 0, transport: 0 };

// The SDK's own socket, watched for refusals: ChatClient retries them itself.
function createSocket(url: string, socketOptions: object): ChatSocket {
  const socket = io(url, socketOptions) as unknown as ChatSocket;
  socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
    if (!storming) return;
    if (error.data?.code) counts.refused++;
    else counts.transport++;
  });
  return socket;
}

function connect(tokens: TokenService, url: string, { matchId, userId, address }: WorkerClient) {
  const receiver: Receiver = {
    client: new ChatClient({
      url,
      token: tokens.sign(userId),
      lastSeqs: { [matchId]: 0 },
      createSocket,
      // As a load balancer tells the gateways (TRUST_PROXY_HOPS=1): each user has an address.
      socket: { extraHeaders: { 'x-forwarded-for': address } },
    }),
    matchId,
    held: new Map(),
  };
  receiver.client.on('message', (message) =>
    receiver.held.set(message.seq, (receiver.held.get(message.seq) ?? 0) + 1),
  );
  receivers.push(receiver);
  return new Promise<void>((resolve, reject) => {
    // Refused for good (a bad token): the storm could never settle.
    receiver.client.on('error', (error) =>
      reject(new Error(`user ${userId}: ${error.code} ${error.message}`)),
    );
    receiver.client.on('ready', () => {
      if (storming) receiver.readyAt ??= Date.now();
      resolve();
    });
    receiver.client.connect();
  });
}

async function handle(message: ToWorker): Promise<FromWorker> {
  switch (message.type) {
    case 'prepare': {
      proxy = await new SwitchProxy(message.target).listen();
      const tokens = new TokenService(message.jwtSecret);
      const { clients, connectConcurrency } = message;
      for (let i = 0; i < clients.length; i += connectConcurrency) {
        await Promise.all(
          clients.slice(i, i + connectConcurrency).map((c) => connect(tokens, proxy!.url, c)),
        );
      }
      return { type: 'prepared' };
    }
    case 'storm':
      storming = true;
      proxy!.targets = message.targets;
      return { type: 'storming' };
    case 'settle': {
      const byMatch = new Map(receivers.map((r) => [r.matchId, r]));
      const expect = message.expect.map(([matchId, seq]) => ({
        receiver: byMatch.get(matchId)!,
        seq,
      }));
      await eventually(
        async () =>
          receivers.every((r) => r.readyAt !== undefined) &&
          expect.every(({ receiver, seq }) => receiver.client.lastSeq(receiver.matchId) >= seq),
        (done) => done,
        message.timeoutMs,
      ).catch(() => {
        const ready = receivers.filter((r) => r.readyAt !== undefined).length;
        throw new Error(
          `${ready} of ${receivers.length} receivers ready after ${message.timeoutMs} ms`,
        );
      });
      return {
        type: 'settled',
        readyAt: receivers.map((r) => r.readyAt!),
        ...counts,
        held: expect.map(({ receiver }) => [receiver.matchId, [...receiver.held]]),
      };
    }
    case 'close':
      receivers.forEach((r) => r.client.close());
      await proxy?.close();
      return { type: 'closed' };
  }
}

process.on('message', (message: ToWorker) => {
  handle(message).then(
    (reply) => {
      process.send!(reply);
      if (reply.type === 'closed') process.disconnect?.();
    },
    (error: unknown) =>
      process.send!({
        type: 'failed',
        error: error instanceof Error ? error.message : String(error),
      }),
  );
});
