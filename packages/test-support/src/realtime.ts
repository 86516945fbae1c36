import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { ChatClient, type ChatClientOptions } from '@mm/client';
import type { MessageView } from '@mm/contract';
import type { TestSchema } from '@mm/db/testing';
import { eventually } from './http';
import { testRedisUrl, uniqueRedisPrefix, type RunningProcess } from './processes';

export const JWT_SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

/** The environment of a scaled system on a test schema and a Redis prefix of its own. */
export function scaledEnv(
  schema: TestSchema,
  label: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: schema.url,
    DATABASE_SCHEMA: schema.schema,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: uniqueRedisPrefix(label),
    JWT_SECRET,
    DEV_TOKENS: 'true',
    // Tests match users they just made; the review queue has tests of its own.
    AUTO_APPROVE_PROFILES: 'true',
    // Tests send bursts; only the rate-limit test runs with a small limit.
    MESSAGE_RATE_LIMIT: '100000',
    HTTP_RATE_LIMIT_PER_IP: '1000000',
    HTTP_RATE_LIMIT_PER_USER: '1000000',
    HANDSHAKE_RATE_LIMIT_PER_IP: '1000000',
    ...extra,
  };
}

/**
 * A TCP proxy standing in for the load balancer in front of the gateway pods: clients keep one
 * address, the test points it at another pod (`target`), or spreads new connections over several
 * round-robin (`targets`), and can cut every open connection.
 */
export class SwitchProxy {
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private next = 0;
  port = 0;
  targets: number[];

  constructor(target: number | number[]) {
    this.targets = Array.isArray(target) ? [...target] : [target];
    this.server = createServer((client) => {
      const upstream = tcpConnect(this.targets[this.next++ % this.targets.length]!, '127.0.0.1');
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.open.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.open.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
  }

  /** The one pod new connections go to. */
  get target(): number {
    return this.targets[0]!;
  }

  set target(port: number) {
    this.targets = [port];
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  listen(): Promise<this> {
    return new Promise((resolve) =>
      // A load balancer's accept queue: a storm's connections wait there instead of being dropped.
      this.server.listen(0, '127.0.0.1', 4096, () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve(this);
      }),
    );
  }

  /** Drops every open connection, as a dying pod or a network failure would. */
  cut(): void {
    for (const socket of this.open) socket.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A pod killed without a word (kill -9), as its clients meet it: `reroute` first points the load
 * balancer (the proxies) at the pods left, then the pod dies, so no reconnect can reach the dead
 * port in between (a real one takes a moment to notice; a refused connect is retried anyway).
 * Resolves with the time of the kill (`Date.now()`).
 */
export async function killPod(victim: RunningProcess, reroute: () => unknown): Promise<number> {
  await reroute();
  victim.child.kill('SIGKILL');
  return Date.now();
}

/** A connected ChatClient and everything it delivered, in order. */
export interface Receiver {
  client: ChatClient;
  messages: MessageView[];
}

export async function chatClient(
  options: Omit<ChatClientOptions, 'token'> & { token: string },
): Promise<Receiver> {
  const client = new ChatClient(options);
  const messages: MessageView[] = [];
  client.on('message', (message) => messages.push(message));
  const ready = new Promise<void>((resolve) => client.on('ready', resolve));
  client.connect();
  await ready;
  return { client, messages };
}

/** Waits until the receiver holds messages up to `seq` of the match. */
export function holdsUpTo(receiver: Receiver, matchId: number, seq: number, timeoutMs = 20_000) {
  return eventually(
    async () => receiver.client.lastSeq(matchId),
    (held) => held >= seq,
    timeoutMs,
  );
}

/** `key(m)` of every message, to compare what was delivered with what was acked. */
export const seqsOf = (messages: MessageView[], matchId: number): number[] =>
  messages.filter((m) => m.match_id === matchId).map((m) => m.seq);
