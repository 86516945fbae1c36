import { io, type Socket } from 'socket.io-client';
import { sample, socketEvents, type Identities } from './contract';
import { EDGE_NUMBERS, hostileString, huge, wrongJson } from './hostile';
import { mutateFields } from './mutate';
import { Random } from './random';
import { authVariant, ownMatchMostly, type Actor } from './rest';

/**
 * The socket half of the fuzzer: emit N is built from the run's seed and N alone (an event of the
 * event map or an unknown one, a payload its schema accepts, then mutations of the fields and of
 * the call itself: no ack, no payload, extra arguments, binary, frames past the limit).
 */

/** The ids an emit may name: the actors' matches, and what is not theirs. */
export interface SocketTarget {
  matchIds: number[];
  matchOf: Record<number, number>;
  foreignIds: number[];
}

export interface EmitCase {
  n: number;
  event: string;
  args: unknown[];
  /** An ack callback is passed (last). */
  withAck: boolean;
  /** The server answers an ack callback: every event of the map that takes one, and unknown ones. */
  answersAck: boolean;
  notes: string[];
  /** The frame is past the server's limit: it may close the socket instead of answering. */
  mayDrop: boolean;
}

const EVENTS = socketEvents();
const UNKNOWN_EVENTS = [
  '',
  'nope',
  'message:delete',
  'admin:ban',
  '__proto__',
  'constructor',
  huge('e', 2000),
];

export function buildEmitCase(
  n: number,
  seed: number,
  target: SocketTarget,
  actor: Actor,
): EmitCase {
  const random = new Random(seed ^ 0x5eed, n);
  const notes: string[] = [];
  const known = random.chance(0.93);
  const spec = known ? random.pick(EVENTS) : undefined;
  const event = spec?.name ?? random.pick(UNKNOWN_EVENTS);
  const ids: Identities = {
    self: actor.id,
    matchId: ownMatchMostly(random, target, actor.id),
    otherUser: random.pick(target.foreignIds),
    seq: random.int(5),
    nonce: `${seed}-${n}`,
  };
  let payload: unknown = sample(spec?.schema ?? { type: 'object' }, ids, random);
  let mayDrop = false;
  const mutate = !random.chance(1 / 6);
  if (mutate) {
    const kind = random.weighted<string>([
      [6, 'fields'],
      [2, 'replace'],
      [1, 'huge'],
      [1, 'binary'],
    ]);
    notes.push(kind);
    if (kind === 'fields' && payload && typeof payload === 'object') {
      const fields = spec?.schema.properties ?? {};
      notes.push(...mutateFields(payload as Record<string, unknown>, fields, random, target));
      if (event === 'sync' && random.chance(0.3)) {
        (payload as Record<string, unknown>).since = random.pick([
          { '0': 0 },
          { '-1': 0 },
          { [String(ids.matchId)]: -1 },
          { [String(ids.matchId)]: 2 ** 53 },
          { [String(ids.matchId)]: 'x' },
          Object.fromEntries(Array.from({ length: 250 }, (_, i) => [String(i + 1), 0])),
          { [hostileString(random)]: 0 },
        ]);
        notes.push('since');
      }
    } else if (kind === 'replace') {
      payload = wrongJson(random);
    } else if (kind === 'huge') {
      payload = {
        match_id: ids.matchId,
        client_id: 'big',
        body: huge('a', random.pick([3_999, 4_001, 99_000, 120_000])),
      };
      mayDrop = true;
    } else if (kind === 'binary') {
      payload = random.pick([
        Buffer.from([0, 1, 2, 255]),
        { match_id: Buffer.from('1'), body: Buffer.alloc(10) },
      ]);
    }
  }

  let args: unknown[] = [payload];
  let withAck = spec?.ack ?? random.chance(0.7);
  if (mutate && random.chance(0.25)) {
    const shape = random.pick(['no-args', 'two-payloads', 'no-ack', 'ack-on-typing', 'numbers']);
    notes.push(`args:${shape}`);
    if (shape === 'no-args') args = [];
    if (shape === 'two-payloads') args = [payload, wrongJson(random)];
    if (shape === 'no-ack') withAck = false;
    if (shape === 'ack-on-typing') withAck = true;
    if (shape === 'numbers') args = [random.pick(EDGE_NUMBERS), random.pick(EDGE_NUMBERS)];
  }
  return { n, event, args, withAck, answersAck: spec?.ack ?? true, notes, mayDrop };
}

/** One fuzzing socket: a stock socket.io-client, with polling first (the default) or WebSocket. */
export function fuzzSocket(url: string, token: string, polling: boolean): Socket {
  return io(url, {
    auth: { token },
    transports: polling ? ['polling', 'websocket'] : ['websocket'],
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
    forceNew: true,
  });
}

export interface EmitResult {
  ack?: unknown[];
  /** No ack came although the socket stayed connected. */
  silent?: boolean;
  /** The socket was down or went down: nothing to judge. */
  skipped?: boolean;
}

/** Emits the case; with an ack, resolves with it (or as silent after `timeoutMs`). */
export function emitCase(socket: Socket, item: EmitCase, timeoutMs: number): Promise<EmitResult> {
  if (!socket.connected) return Promise.resolve({ skipped: true });
  if (!item.withAck || !item.answersAck) {
    // A callback the contract does not take is passed but not waited for.
    socket.emit(item.event, ...item.args, ...(item.withAck ? [() => undefined] : []));
    return Promise.resolve({});
  }
  return new Promise((resolve) => {
    const disconnected = () => {
      clearTimeout(timer);
      resolve({ skipped: true });
    };
    const timer = setTimeout(() => {
      socket.off('disconnect', disconnected);
      resolve({ silent: true });
    }, timeoutMs);
    socket.once('disconnect', disconnected);
    socket.emit(item.event, ...item.args, (...ack: unknown[]) => {
      clearTimeout(timer);
      socket.off('disconnect', disconnected);
      resolve({ ack });
    });
  });
}

/** What is wrong with the answer to an emit, if anything. */
export function judgeEmit(item: EmitCase, result: EmitResult): string | undefined {
  if (result.skipped) return undefined;
  if (result.silent) {
    return item.mayDrop || !item.answersAck
      ? undefined
      : 'no ack while the socket stayed connected';
  }
  if (!result.ack) return undefined;
  const [first] = result.ack;
  if (!first || typeof first !== 'object' || typeof (first as { ok?: unknown }).ok !== 'boolean') {
    return `an ack that is not { ok, ... }: ${JSON.stringify(result.ack).slice(0, 200)}`;
  }
  const error = (first as { error?: { code?: unknown } }).error;
  if ((first as { ok: boolean }).ok === false && error?.code === 'INTERNAL') {
    return `INTERNAL ack: ${JSON.stringify(first).slice(0, 300)}`;
  }
  return undefined;
}

export function describeEmit(item: EmitCase): string {
  const args = JSON.stringify(item.args, (_key, value: unknown) =>
    typeof value === 'string' && value.length > 80
      ? `${value.slice(0, 80)}…(${value.length})`
      : value,
  );
  return `emit #${item.n} ${JSON.stringify(item.event.slice(0, 40))} ${args?.slice(0, 400)} ack=${item.withAck} {${item.notes.join(', ')}}`;
}

/**
 * Handshake N: a stock client connecting with a token other than a valid one (absent, forged,
 * expired, oddly shaped, not a string). It must be refused with a `connect_error` whose
 * `data.code` says why, and never connect.
 */
export async function tryHandshake(
  url: string,
  n: number,
  seed: number,
  actor: Actor,
  target: { jwtSecret: string; foreignIds: number[] },
): Promise<string | undefined> {
  const random = new Random(seed ^ 0x4a5e, n);
  const notes: string[] = [];
  const { kind, header } = authVariant(random, actor, target, notes);
  const token: unknown = random.chance(0.8)
    ? header?.replace(/^Bearer ?/, '')
    : random.pick([123, ['a'], { sub: actor.id }, null, huge('t', 20_000)]);
  const socket = io(url, {
    auth: { token },
    transports: random.chance(0.5) ? ['polling', 'websocket'] : ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 15_000,
  });
  try {
    return await new Promise<string | undefined>((resolve) => {
      // "bearer <token>": the scheme is case-insensitive, but a socket's token has none.
      socket.once('connect', () =>
        resolve(`handshake #${n} connected with ${kind}: ${JSON.stringify(token)?.slice(0, 80)}`),
      );
      socket.once('connect_error', (error: Error & { data?: { code?: unknown } }) => {
        const code = error.data?.code;
        resolve(
          typeof code === 'string' && code !== 'INTERNAL'
            ? undefined
            : `handshake #${n} refused without a code (${error.message}) for ${notes.join(',')}`,
        );
      });
    });
  } finally {
    socket.disconnect();
  }
}
