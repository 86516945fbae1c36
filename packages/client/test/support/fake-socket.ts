import type {
  Ack,
  ClientToServerEvents,
  MessageView,
  SendMessageRequest,
  ServerToClientEvents,
  SyncPage,
  SyncRequest,
} from '@mm/contract';
import type { ChatSocket } from '../../src/socket';

type Handler = (...args: never[]) => void;

/** One emit of the client, with the ack callback the server would answer through. */
export interface Emitted<P = unknown, A = unknown> {
  event: keyof ClientToServerEvents;
  payload: P;
  /** Answers it (once; later answers are ignored, as socket.io does). */
  answer(ack: A): void;
  answered: boolean;
}

/**
 * The part of socket.io-client's Socket that ChatClient uses, in memory and synchronous, for unit
 * tests that script the server turn by turn: `connect()` connects at once (unless `refuse` is
 * set), every emit is recorded in `emitted` for the test to answer, `push` delivers a server
 * event, `drop` loses the connection as a network would. `timeout(ms).emitWithAck` rejects after
 * `ms` like socket.io's, on whatever timers the test uses (jest's fake ones).
 */
export class FakeSocket {
  connected = false;
  /** socket.io's `active`: it will reconnect by itself (false after `disconnect()`). */
  active = false;
  readonly emitted: Emitted[] = [];
  /** Emits made while not connected (socket.io would buffer them): the client should make none. */
  readonly emittedOffline: string[] = [];
  connects = 0;
  private readonly handlers = new Map<string, Set<Handler>>();

  readonly volatile: { emit(event: keyof ClientToServerEvents, payload: unknown): FakeSocket } = {
    emit: (event: keyof ClientToServerEvents, payload: unknown) => {
      if (this.connected) this.record(event, payload, () => undefined);
      return this;
    },
  };

  on(event: string, handler: Handler): this {
    const set = this.handlers.get(event) ?? new Set();
    set.add(handler);
    this.handlers.set(event, set);
    return this;
  }

  connect(): this {
    this.active = true;
    if (this.connected) return this;
    this.connected = true;
    this.connects++;
    this.fire('connect');
    return this;
  }

  disconnect(): this {
    this.active = false;
    if (!this.connected) return this;
    this.connected = false;
    this.fire('disconnect', 'io client disconnect');
    return this;
  }

  /** The connection is lost; socket.io would reconnect by itself, here the test calls `connect`. */
  drop(): void {
    this.connected = false;
    this.fire('disconnect', 'transport close');
  }

  emit(event: keyof ClientToServerEvents, payload: unknown, ack?: (answer: never) => void): this {
    this.record(event, payload, ack ?? (() => undefined));
    return this;
  }

  timeout(ms: number) {
    return {
      emitWithAck: (event: keyof ClientToServerEvents, payload: unknown) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('operation has timed out')), ms);
          this.record(event, payload, (answer) => {
            clearTimeout(timer);
            resolve(answer);
          });
        }),
    };
  }

  /** A server event, as the gateway pushes it. */
  push<E extends keyof ServerToClientEvents>(
    event: E,
    ...args: Parameters<ServerToClientEvents[E]>
  ): void {
    this.fire(event, ...args);
  }

  /** Every `message:send` so far, resends included. */
  sends(): Emitted<SendMessageRequest, Ack<{ message: MessageView }>>[] {
    return this.emitted.filter((e) => e.event === 'message:send') as never;
  }

  /** Every `sync` so far. */
  syncs(): Emitted<SyncRequest, Ack<SyncPage>>[] {
    return this.emitted.filter((e) => e.event === 'sync') as never;
  }

  /** The `sync` still waiting for its answer (the test fails if there is none). */
  pendingSync(): Emitted<SyncRequest, Ack<SyncPage>> {
    const pending = this.syncs().filter((sync) => !sync.answered);
    if (pending.length !== 1) throw new Error(`${pending.length} syncs pending, expected 1`);
    return pending[0]!;
  }

  /** As a ChatSocket, for ChatClient's `createSocket` option. */
  asSocket(): ChatSocket {
    return this as unknown as ChatSocket;
  }

  private record(
    event: keyof ClientToServerEvents,
    payload: unknown,
    ack: (answer: never) => void,
  ): void {
    if (!this.connected) this.emittedOffline.push(event);
    const emitted: Emitted = {
      event,
      payload,
      answered: false,
      answer: (answer) => {
        if (emitted.answered) return;
        emitted.answered = true;
        ack(answer as never);
      },
    };
    this.emitted.push(emitted);
  }

  private fire(event: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(event) ?? [])
      (handler as (...a: unknown[]) => void)(...args);
  }
}
