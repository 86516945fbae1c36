import { io, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import {
  RETRYABLE_SEND_CODES,
  SYNC_NEEDED_SPREAD_MS,
  type Ack,
  type ClientToServerEvents,
  type DeliveredEvent,
  type ErrorBody,
  type MatchEndedEvent,
  type MatchExpiringEvent,
  type MatchExtendedEvent,
  type MatchUnlockedEvent,
  type MatchView,
  type MessageDeletedEvent,
  type MessageView,
  type PresenceView,
  type ReadEvent,
  type SecretChatEvent,
  type SendMessageRequest,
  type SyncPage,
  type TypingEvent,
  type UnreadTotalEvent,
} from '@mm/contract';
import type { ChatSocket } from './socket.js';
import { currentToken, type TokenSource } from './token.js';

/** What a `ChatClient` tells its listeners. */
export interface ChatClientEvents {
  /** Every message of a followed match exactly once, live or replayed, the user's own included. */
  message: (message: MessageView) => void;
  typing: (event: TypingEvent) => void;
  read: (event: ReadEvent) => void;
  /** `message:delivered`: the messages up to `seq` reached a device of `user_id`. */
  delivered: (event: DeliveredEvent) => void;
  /** `message:deleted`: the sender took back message `seq`; show a tombstone in its place. */
  deleted: (event: MessageDeletedEvent) => void;
  /** `unread:total`: the user's unread messages over all matches (on connect and on change). */
  unreadTotal: (event: UnreadTotalEvent) => void;
  presence: (presence: PresenceView) => void;
  /** A new match: it is followed from now on. */
  match: (match: MatchView) => void;
  /** The chat crossed an unlock level: the partner as this user may now see them. */
  unlocked: (event: MatchUnlockedEvent) => void;
  /** `match:ended`: the match is over (expired, unmatched, blocked); no more messages in it. */
  ended: (event: MatchEndedEvent) => void;
  /** `match:extended`: the match's expiry moved (`expires_at`, `extended_count`). */
  extended: (event: MatchExtendedEvent) => void;
  /** `match:expiring`: the match ends soon (`expires_at`) unless one side extends it. */
  expiring: (event: MatchExpiringEvent) => void;
  /** `secret_chat:requested`: one user (`requested_by`) asked for a secret chat. */
  secretChatRequested: (event: SecretChatEvent) => void;
  /** `secret_chat:active`: both agreed; new messages in the match are secret from now on. */
  secretChatActive: (event: SecretChatEvent) => void;
  /** Connected and caught up: the replay after this (re)connect is done. */
  ready: () => void;
  disconnected: (reason: string) => void;
  /** The server refused the connection or a message for good (bad token, invalid message). */
  error: (error: ErrorBody) => void;
}

export interface ChatClientOptions {
  /** The gateway (the embedded default: the same address as the API). */
  url: string;
  /** The JWT, or a (possibly async) function asked for one at every (re)connect. */
  token: TokenSource;
  /** Matches to follow from the start, with the last seq already held (0 for all of it). */
  lastSeqs?: Record<number, number>;
  /** Milliseconds an ack may take before the message is sent again. */
  ackTimeoutMs?: number;
  /** Messages per `sync` page. */
  syncPageSize?: number;
  /**
   * The longest random wait before the `sync` a server's `sync:needed` asks for (default
   * SYNC_NEEDED_SPREAD_MS), so a pod's clients do not all sync at once.
   */
  syncNeededSpreadMs?: number;
  /** Milliseconds between a seq gap (a message above one still missing) and the `sync` that fills it. */
  gapSyncDelayMs?: number;
  /**
   * Tell the server, by itself, when messages reach this client (`delivered`, the seq up to which
   * it holds every message of the match), so the partner sees them delivered. Default true.
   */
  autoDelivered?: boolean;
  /** Passed to socket.io-client as they are (transports, path, ...). */
  socket?: Partial<ManagerOptions & SocketOptions>;
  /**
   * Makes the socket from the url and the options above (default: socket.io-client's `io`). The
   * client calls `connect()` on it itself; a unit test may pass an in-memory socket here.
   */
  createSocket?: (url: string, options: Partial<ManagerOptions & SocketOptions>) => ChatSocket;
}

/** A refusal from the server: its error object. */
export class ChatError extends Error {
  constructor(readonly error: ErrorBody) {
    super(`${error.code}: ${error.message}`);
    this.name = 'ChatError';
  }
}

export interface Backoff {
  minMs: number;
  maxMs: number;
  /** Each delay is spread by ± this fraction, so clients refused together do not come back together. */
  jitter: number;
}

/** Reconnect delays: 1 s doubling up to 5 s, each spread by ±50 % so clients do not stampede. */
export const RECONNECT: Backoff = { minMs: 1_000, maxMs: 5_000, jitter: 0.5 };

/**
 * Delays before a refused send (a code of RETRYABLE_SEND_CODES) goes again: 500 ms doubling up to
 * 10 s, ±50 %, and never sooner than the `retry_after` the server asked for.
 */
export const SEND_RETRY: Backoff = { minMs: 500, maxMs: 10_000, jitter: 0.5 };

/** The delay before retry number `attempt` (0 first): exponential, capped, jittered. */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  { minMs, maxMs, jitter }: Backoff = RECONNECT,
): number {
  const base = Math.min(maxMs, minMs * 2 ** attempt);
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}

interface Pending {
  request: Required<SendMessageRequest>;
  resolve(message: MessageView): void;
  reject(error: Error): void;
  /** The connection it was last sent on: it is sent again on every new one until acked. */
  sentOn: number;
  /** Refusals with a retryable code so far: the next retry's backoff. */
  refusals: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** Per match: every seq up to `watermark` is held (or known not to exist); `above` holds the rest. */
interface MatchCursor {
  watermark: number;
  above: Set<number>;
}

type Listener<E extends keyof ChatClientEvents> = ChatClientEvents[E];

/** What each acked request answers on success. */
interface Answers {
  read: { last_read_seq: number };
  delivered: { last_delivered_seq: number };
  'message:delete': { message: MessageView };
}

const closedError = (): Error => new Error('The chat client was closed.');

const newClientId = (): string =>
  typeof globalThis.crypto?.randomUUID === 'function'
    ? globalThis.crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

/**
 * Socket.IO chat for Node and browsers, with the delivery guarantee of docs/design.md §4.4 on the
 * client's side:
 * - reconnects by itself with exponential backoff (1 s → 5 s, jittered), also when the server
 *   closed the connection or refused it for a while (a draining pod);
 * - keeps unacked messages in an outbox and sends them again, with the same `client_id`, on every
 *   new connection until they are acked (the server stores a resend once);
 * - tracks the last seq per match and calls `sync` on every (re)connect, page after page, and
 *   also while connected: when the server says live events may have been lost (`sync:needed`),
 *   and shortly after a message arrives above a missing one (a gap);
 * - delivers each `(match_id, seq)` once, however often it arrives.
 */
export class ChatClient {
  private readonly socket: ChatSocket;
  private readonly cursors = new Map<number, MatchCursor>();
  private readonly outbox = new Map<string, Pending>();
  private readonly listeners = new Map<keyof ChatClientEvents, Set<(...args: never[]) => void>>();
  private connection = 0;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private pausedNow = false;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private syncNeededTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly ackTimeoutMs: number;
  private readonly syncPageSize: number;
  /** Per match: the seq a `delivered` is due for, and the highest one told on this connection. */
  private readonly deliveryDue = new Map<number, number>();
  private readonly deliveryTold = new Map<number, number>();
  private deliveryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: ChatClientOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.syncPageSize = options.syncPageSize ?? 200;
    for (const [matchId, seq] of Object.entries(options.lastSeqs ?? {})) {
      this.follow(Number(matchId), seq);
    }
    const { token, createSocket = io } = options;
    this.socket = createSocket(options.url, {
      transports: ['websocket'],
      reconnectionDelay: RECONNECT.minMs,
      reconnectionDelayMax: RECONNECT.maxMs,
      randomizationFactor: RECONNECT.jitter,
      autoConnect: false,
      ...options.socket,
      auth: (callback) => {
        if (typeof token === 'string') return callback({ token });
        currentToken(token).then(
          (value) => callback(value === undefined ? {} : { token: value }),
          () => callback({}),
        );
      },
    }) as ChatSocket;
    this.wire();
  }

  /** Opens the connection (and keeps it open until `pause` or `close`); the same as `resume`. */
  connect(): this {
    return this.resume();
  }

  /**
   * Disconnects until `resume` (an app sent to the background, a user going idle) without
   * losing anything: unacked messages stay in the outbox with their promises pending, and every
   * followed match keeps its watermark. While paused, `send` queues (the message goes once
   * resumed), `typing` is dropped, and nothing reconnects by itself.
   */
  pause(): void {
    if (this.closed) return;
    this.pausedNow = true;
    this.stopTimers();
    this.socket.disconnect();
  }

  /**
   * Connects again after `pause` (or for the first time): the usual (re)connect follows, a `sync`
   * of every followed match, then the outbox is sent in order. Throws after `close`.
   */
  resume(): this {
    if (this.closed) throw closedError();
    this.pausedNow = false;
    this.socket.connect();
    return this;
  }

  /** True between `pause` and `resume`. */
  get paused(): boolean {
    return this.pausedNow;
  }

  /** Closes for good; messages still in the outbox are rejected, and so is any later `send`. */
  close(): void {
    this.closed = true;
    this.stopTimers();
    this.socket.disconnect();
    for (const pending of this.outbox.values()) pending.reject(closedError());
    this.outbox.clear();
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  on<E extends keyof ChatClientEvents>(event: E, listener: Listener<E>): this {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (...args: never[]) => void);
    this.listeners.set(event, set);
    return this;
  }

  off<E extends keyof ChatClientEvents>(event: E, listener: Listener<E>): this {
    this.listeners.get(event)?.delete(listener as (...args: never[]) => void);
    return this;
  }

  /**
   * Follows a match: its messages after `lastSeq` are replayed at the next (re)connect (and by a
   * `sync` while connected). Called again, it takes the higher seq: a later `lastSeq` above the
   * watermark (say, after loading the history over REST) moves it up, a lower one never moves it
   * back, so nothing already held is delivered twice.
   */
  follow(matchId: number, lastSeq = 0): void {
    if (this.cursors.has(matchId)) this.advance(matchId, lastSeq);
    else this.cursors.set(matchId, { watermark: lastSeq, above: new Set() });
  }

  /** The seq up to which this client holds every message of the match. */
  lastSeq(matchId: number): number {
    return this.cursors.get(matchId)?.watermark ?? 0;
  }

  /**
   * Sends a message; resolves with it once stored, after however many reconnects that takes.
   * A refusal for now (RETRYABLE_SEND_CODES: a limit, a server whose database is down) is retried
   * with backoff (SEND_RETRY). Before `connect` and while paused, it waits in the outbox and goes
   * once connected. Rejects only when the server refuses it for good (a ChatError) or the client
   * is closed.
   */
  send(matchId: number, body: string, clientId: string = newClientId()): Promise<MessageView> {
    if (this.closed) return Promise.reject(closedError());
    this.follow(matchId);
    const existing = this.outbox.get(clientId);
    if (existing) return new Promise((resolve, reject) => this.chain(existing, resolve, reject));
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        request: { match_id: matchId, client_id: clientId, body },
        resolve,
        reject,
        sentOn: 0,
        refusals: 0,
      };
      this.outbox.set(clientId, pending);
      if (this.socket.connected) this.transmit(pending);
    });
  }

  /** Messages waiting for their ack. */
  get unacked(): number {
    return this.outbox.size;
  }

  /** Volatile: dropped rather than queued while disconnected. */
  typing(matchId: number, isTyping: boolean): void {
    if (this.socket.connected)
      this.socket.volatile.emit('typing', { match_id: matchId, is_typing: isTyping });
  }

  /** Marks the match read up to `seq`; resolves with the stored last read seq. */
  async markRead(matchId: number, seq: number): Promise<number> {
    return (await this.request('read', { match_id: matchId, seq })).last_read_seq;
  }

  /**
   * Marks the match's messages up to `seq` delivered; resolves with the stored last delivered
   * seq. The client does it by itself unless `autoDelivered` is false.
   */
  async markDelivered(matchId: number, seq: number): Promise<number> {
    return (await this.request('delivered', { match_id: matchId, seq })).last_delivered_seq;
  }

  /**
   * Takes back one of the user's own messages within the unsend window; resolves with its
   * tombstone (`deleted: true`, `body: null`). The partner's clients get `deleted`.
   */
  async deleteMessage(matchId: number, seq: number): Promise<MessageView> {
    return (await this.request('message:delete', { match_id: matchId, seq })).message;
  }

  /** An acked event: its answer, or a ChatError with the server's refusal. */
  private async request<E extends keyof Answers>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<Answers[E]> {
    const timed = this.socket.timeout(this.ackTimeoutMs);
    // Socket.IO types the call per event name; E is one of three, each with its answer above.
    const emit = timed.emitWithAck as (event: E, payload: unknown) => Promise<Ack<Answers[E]>>;
    const ack = await emit.call(timed, event, payload);
    if (!ack.ok) throw new ChatError(ack.error);
    return ack;
  }

  /** Replays what was missed in every followed match, page after page. */
  async sync(): Promise<void> {
    for (;;) {
      const since = Object.fromEntries(
        [...this.cursors].map(([matchId, cursor]) => [String(matchId), cursor.watermark]),
      );
      if (Object.keys(since).length === 0) return;
      // What is held above a gap now was stored before this sync's query runs.
      const heldAbove = new Map<number, number>();
      for (const [matchId, { above }] of this.cursors)
        if (above.size > 0) heldAbove.set(matchId, Math.max(...above));
      const ack: Ack<SyncPage> = await this.socket
        .timeout(this.ackTimeoutMs)
        .emitWithAck('sync', { since, limit: this.syncPageSize });
      if (!ack.ok) throw new ChatError(ack.error);
      const lastOfMatch = new Map<number, number>();
      for (const message of ack.messages) {
        this.accept(message, true);
        lastOfMatch.set(message.match_id, message.seq);
      }
      // Sync is authoritative up to what it returned: a skipped seq (an expired secret message)
      // will never come, so the watermark moves past it.
      for (const [matchId, seq] of lastOfMatch) this.advance(matchId, seq);
      if (ack.has_more) continue;
      // The last page: a seq below one held before the query that it did not return is gone (a
      // secret message purged since; seqs commit in order), so the gap closes instead of asking
      // sync again and again.
      for (const [matchId, seq] of heldAbove) this.advance(matchId, seq);
      return;
    }
  }

  private wire(): void {
    const socket = this.socket;
    socket.on('connect', () => {
      this.retries = 0;
      this.connection++;
      this.deliveryTold.clear();
      const connection = this.connection;
      this.sync().then(
        () => {
          // Paused or dropped meanwhile: the next connection syncs and resends instead.
          if (connection !== this.connection || !socket.connected) return;
          // Resend in the order they were sent; the server stores each client_id once.
          for (const pending of this.outbox.values()) this.transmit(pending);
          this.emit('ready');
        },
        () => {
          // The sync failed on this connection: start over on a new one.
          if (connection === this.connection && socket.connected) socket.disconnect().connect();
        },
      );
    });
    socket.on('disconnect', (reason) => {
      this.emit('disconnected', reason);
      // Socket.IO reconnects by itself after a lost connection, not after the server closed it.
      if (reason === 'io server disconnect') this.retryLater();
    });
    socket.on('connect_error', (error: Error & { data?: { code?: string } }) => {
      const code = error.data?.code;
      if (code === undefined || socket.active) return; // a transport error: Socket.IO retries
      // A deleted account stays deleted; a fixed token that is bad stays bad.
      const final =
        code === 'ACCOUNT_DELETED' ||
        ((code === 'UNAUTHENTICATED' || code === 'TOKEN_EXPIRED') &&
          typeof this.options.token === 'string');
      if (final) {
        this.emit('error', { code, message: error.message });
        return;
      }
      this.retryLater(); // refused for now (a draining pod) or the token provider may refresh
    });
    socket.on('message:new', (message) => this.accept(message, true));
    socket.on('match:new', (match) => {
      this.follow(match.id);
      this.emit('match', match);
    });
    socket.on('match:unlocked', (event) => this.emit('unlocked', event));
    socket.on('match:ended', (event) => this.emit('ended', event));
    socket.on('match:extended', (event) => this.emit('extended', event));
    socket.on('match:expiring', (event) => this.emit('expiring', event));
    socket.on('secret_chat:requested', (event) => this.emit('secretChatRequested', event));
    socket.on('secret_chat:active', (event) => this.emit('secretChatActive', event));
    socket.on('typing', (event) => this.emit('typing', event));
    socket.on('read', (event) => this.emit('read', event));
    socket.on('message:delivered', (event) => this.emit('delivered', event));
    socket.on('message:deleted', (event) => this.emit('deleted', event));
    socket.on('unread:total', (event) => this.emit('unreadTotal', event));
    socket.on('presence', (presence) => this.emit('presence', presence));
    socket.on('sync:needed', () => this.syncNeededSoon());
  }

  /**
   * The server's pod may have lost live events for this socket (docs/design.md §4.4): one `sync`
   * after a random wait of up to `syncNeededSpreadMs`, again after a failure while connected.
   * This also recovers the last message of a conversation, which no later seq would reveal.
   */
  private syncNeededSoon(): void {
    if (this.syncNeededTimer) return;
    const spread = this.options.syncNeededSpreadMs ?? SYNC_NEEDED_SPREAD_MS;
    this.syncNeededTimer = setTimeout(
      () => {
        this.syncNeededTimer = undefined;
        if (this.closed || !this.socket.connected) return; // the reconnect's sync does it
        this.sync().catch(() => this.syncNeededSoon());
      },
      Math.round(spread * Math.random()),
    );
  }

  /**
   * A message arrived above a missing seq: the missing one may still come live (messages of one
   * match may cross pods out of order), so wait `gapSyncDelayMs` (500 ms), then `sync` if a gap
   * is still there. A live event the pod lost (a Redis subscription that dropped) is so
   * recovered without a reconnect.
   */
  private fillGapSoon(): void {
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      if (this.closed || !this.socket.connected || !this.hasGap()) return;
      this.sync().then(
        () => {
          if (this.hasGap()) this.fillGapSoon(); // a message arrived above one still on its way
        },
        () => this.fillGapSoon(),
      );
    }, this.options.gapSyncDelayMs ?? 500);
  }

  private hasGap(): boolean {
    return [...this.cursors.values()].some((cursor) => cursor.above.size > 0);
  }

  private transmit(pending: Pending): void {
    if (pending.sentOn === this.connection && pending.timer !== undefined) return;
    pending.sentOn = this.connection;
    const connection = this.connection;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      // No ack in time on this connection: send again while it is up; a new one resends anyway.
      pending.timer = undefined;
      if (
        this.outbox.has(pending.request.client_id) &&
        this.socket.connected &&
        connection === this.connection
      ) {
        this.transmit(pending);
      }
    }, this.ackTimeoutMs);
    this.socket.emit('message:send', pending.request, (ack) => this.settle(pending, ack));
  }

  private settle(pending: Pending, ack: Ack<{ message: MessageView }>): void {
    if (!this.outbox.has(pending.request.client_id)) return; // settled by an earlier ack
    if (!ack.ok && RETRYABLE_SEND_CODES.includes(ack.error.code)) {
      const asked = Number(ack.error.details?.retry_after ?? 0) * 1000;
      const delay = Math.max(asked, backoffDelay(pending.refusals++, Math.random, SEND_RETRY));
      clearTimeout(pending.timer);
      pending.timer = setTimeout(() => {
        pending.timer = undefined;
        if (this.socket.connected) this.transmit(pending);
      }, delay);
      return;
    }
    clearTimeout(pending.timer);
    this.outbox.delete(pending.request.client_id);
    if (!ack.ok) {
      this.emit('error', ack.error);
      pending.reject(new ChatError(ack.error));
      return;
    }
    this.accept(ack.message);
    pending.resolve(ack.message);
  }

  private chain(pending: Pending, resolve: (m: MessageView) => void, reject: (e: Error) => void) {
    const { resolve: first, reject: firstReject } = pending;
    pending.resolve = (message) => {
      first(message);
      resolve(message);
    };
    pending.reject = (error) => {
      firstReject(error);
      reject(error);
    };
  }

  /**
   * Delivers a message unless its (match_id, seq) was delivered before. `received`: it came from
   * the server (live or replayed), not as the ack of this client's own send, so a `delivered`
   * receipt is due.
   */
  private accept(message: MessageView, received = false): void {
    this.follow(message.match_id);
    const cursor = this.cursors.get(message.match_id)!;
    if (message.seq <= cursor.watermark || cursor.above.has(message.seq)) return;
    cursor.above.add(message.seq);
    while (cursor.above.delete(cursor.watermark + 1)) cursor.watermark++;
    this.emit('message', message);
    if (cursor.above.size > 0) this.fillGapSoon();
    if (received) this.deliveredSoon(message.match_id);
  }

  /**
   * Tells the server, once per burst (the messages of one sync page, say), the seq up to which
   * the client holds every message of the match: the receipt never claims a message still
   * missing. Lost on a dropped connection, it is told again after the reconnect's sync.
   */
  private deliveredSoon(matchId: number): void {
    if (this.options.autoDelivered === false) return;
    this.deliveryDue.set(matchId, this.lastSeq(matchId));
    if (this.deliveryTimer) return;
    this.deliveryTimer = setTimeout(() => {
      this.deliveryTimer = undefined;
      if (this.closed || !this.socket.connected) return;
      for (const [id, seq] of this.deliveryDue) {
        if (seq <= (this.deliveryTold.get(id) ?? 0)) continue;
        this.deliveryTold.set(id, seq);
        this.socket.emit('delivered', { match_id: id, seq }, () => undefined);
      }
      this.deliveryDue.clear();
    }, 0);
  }

  private advance(matchId: number, seq: number): void {
    const cursor = this.cursors.get(matchId)!;
    if (seq <= cursor.watermark) return;
    cursor.watermark = seq;
    for (const held of cursor.above) if (held <= seq) cursor.above.delete(held);
    while (cursor.above.delete(cursor.watermark + 1)) cursor.watermark++;
  }

  private retryLater(): void {
    if (this.closed || this.pausedNow) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.closed && !this.pausedNow && !this.socket.connected) this.socket.connect();
    }, backoffDelay(this.retries++));
  }

  /** No reconnect, sync or resend is due any more (the outbox itself stays). */
  private stopTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.gapTimer);
    clearTimeout(this.syncNeededTimer);
    clearTimeout(this.deliveryTimer);
    this.retryTimer = this.gapTimer = this.syncNeededTimer = this.deliveryTimer = undefined;
    for (const pending of this.outbox.values()) {
      clearTimeout(pending.timer);
      pending.timer = undefined;
    }
  }

  private emit<E extends keyof ChatClientEvents>(
    event: E,
    ...args: Parameters<ChatClientEvents[E]>
  ): void {
    for (const listener of this.listeners.get(event) ?? []) {
      (listener as (...a: Parameters<ChatClientEvents[E]>) => void)(...args);
    }
  }
}
