import { z, type ZodObject } from 'zod';
import type { Ack, ClientToServerEvents, ErrorCode } from '@mm/contract';
import { toAppError, type Logger, type Services } from '@mm/core';
import type { GatewaySocket } from '../socket-server';
import type { InFlight } from '../in-flight';

export type ClientEvent = keyof ClientToServerEvents;

/**
 * How an event is limited, beyond the handshake and frame limits every socket has:
 * - `messages`: counts against the sender's message rate (MESSAGE_RATE_LIMIT per
 *   MESSAGE_RATE_WINDOW_SECONDS, over every socket, pod and the REST send), which the message
 *   service applies; over it the ack is RATE_LIMITED with `details.retry_after`.
 * - `none`: not limited; it reads or moves state of the caller's own matches only.
 * - `volatile`: no ack; a malformed one, or one the socket may not send, is dropped, and
 *   Socket.IO drops it rather than queue it when the link is slow.
 */
export const RATE_CLASSES = {
  messages:
    "Counts against the sender's message rate (`MESSAGE_RATE_LIMIT` per " +
    '`MESSAGE_RATE_WINDOW_SECONDS`, over every socket, pod and the REST send): over it the ack is ' +
    '`RATE_LIMITED` with `details.retry_after`.',
  none: 'Not limited beyond the handshake and frame limits.',
  volatile:
    'Volatile, no ack: a malformed one, or one for a match the socket is not in, is dropped, and ' +
    'it is dropped rather than queued when the link is slow.',
} as const;
export type RateClass = keyof typeof RATE_CLASSES;

/** What a handler receives: the payload parsed by the event's schema, and the caller. */
export interface EventContext<P extends ZodObject> {
  payload: z.output<P>;
  /** The token's subject, from the handshake. */
  userId: number;
  socket: GatewaySocket;
  services: Services;
}

/**
 * One client event: the one description that both mounts it on a socket and documents it in
 * docs/events.md (`npm run docs:events`), as `RouteSpec` does for a REST route.
 */
export interface EventSpec<P extends ZodObject = ZodObject, A extends ZodObject = ZodObject> {
  event: ClientEvent;
  summary: string;
  description?: string;
  /** The payload, from the contract; a payload it refuses is acked VALIDATION_FAILED. */
  payload: P;
  /**
   * The success ack's fields (`{ ok: true, ...ack }`), from the contract: the handler's result is
   * parsed with it, so a field it does not name never reaches the client. Absent: no ack at all.
   */
  ack?: A;
  rate: RateClass;
  /** Error codes this event acks with beyond the ones every acked event may give. */
  errors?: ErrorCode[];
  handler(context: EventContext<P>): Promise<z.input<A>> | z.input<A> | void;
}

/** A spec with its types erased, as tables hold them. */
export type AnyEventSpec = EventSpec<ZodObject, ZodObject>;

/** Declares an event with its handler's payload typed from its schema. */
export function clientEvent<P extends ZodObject, A extends ZodObject>(
  spec: EventSpec<P, A>,
): AnyEventSpec {
  return spec as unknown as AnyEventSpec;
}

/** The error codes an event may ack with: its own, and those every acked event may give. */
export function eventErrors(spec: AnyEventSpec): ErrorCode[] {
  if (!spec.ack) return [];
  const codes = new Set<ErrorCode>(['VALIDATION_FAILED', ...(spec.errors ?? [])]);
  if (spec.rate === 'messages') codes.add('RATE_LIMITED');
  // PostgreSQL or Redis out of reach: any acked event answers UNAVAILABLE then.
  codes.add('UNAVAILABLE');
  codes.add('INTERNAL');
  return [...codes];
}

export interface EventMountContext {
  services: Services;
  logger: Logger;
  /** Work a draining pod waits for before it closes. */
  inFlight: InFlight;
}

type Reply = (res: Ack<object>) => void;

/** A handler of one event, shared by every socket: the socket comes as an argument. */
type SharedHandler = (socket: GatewaySocket, args: unknown[]) => void;

/** A listener shared by every socket: Socket.IO calls it with the socket as `this`. */
export type SharedListener = (this: GatewaySocket, ...args: unknown[]) => void;

/** The listeners of the event table, built once per process and mounted on every socket. */
export interface EventListeners {
  /** One per declared event. */
  events: ReadonlyMap<string, SharedListener>;
  /** Answers an event the table does not declare. */
  unknown: SharedListener;
}

/**
 * The events of every socket, as listeners built once per process (mounted on each socket with
 * `mountEvents`). An acked event's payload is parsed with its schema (a bad field is acked
 * VALIDATION_FAILED naming it), the handler runs with the caller's id, and its result is parsed
 * with the ack schema and acked `{ ok: true, ...result }`; an error is acked `{ ok: false, error }`.
 * A client that sends no ack callback still gets the work done; one that sends only a callback
 * (no payload) gets VALIDATION_FAILED. Nothing it sends can throw out of here and crash the
 * process, and an unexpected failure is answered INTERNAL without its message. An event without an
 * ack runs only when its payload parses, and is dropped otherwise. An event the table does not
 * declare is acked UNKNOWN_EVENT when the client waits for an answer, and ignored otherwise.
 *
 * Shared rather than built per socket: closures per event and socket are what an idle socket
 * would otherwise keep beyond Socket.IO's own (docs/benchmarks.md, idle sockets).
 */
export function eventListeners(
  specs: readonly AnyEventSpec[],
  context: EventMountContext,
): EventListeners {
  const events = new Map<string, SharedListener>(
    specs.map((spec) => {
      const handle = spec.ack ? acked(spec, spec.ack, context) : unacked(spec, context);
      return [
        spec.event,
        function listener(this: GatewaySocket, ...args: unknown[]) {
          handle(this, args);
        },
      ];
    }),
  );
  function unknown(this: GatewaySocket, event: unknown, ...args: unknown[]): void {
    if (typeof event === 'string' && events.has(event)) return;
    const reply = args.at(-1);
    if (typeof reply !== 'function') return;
    (reply as Reply)({
      ok: false,
      error: {
        code: 'UNKNOWN_EVENT',
        message: 'No such event.',
        details: { event: String(event).slice(0, 100) },
      },
    });
  }
  return { events, unknown: unknown as SharedListener };
}

/**
 * Mounts the event table on a socket: references to the shared listeners, nothing built per
 * socket. They run as Socket.IO runs any listener: after the socket's middlewares (`socket.use`),
 * with the socket as `this`.
 */
export function mountEvents(socket: GatewaySocket, { events, unknown }: EventListeners): void {
  for (const [event, listener] of events) socket.on(event as ClientEvent, listener as never);
  socket.onAny(unknown);
}

function acked(
  spec: AnyEventSpec,
  ack: ZodObject,
  { services, logger, inFlight }: EventMountContext,
): SharedHandler {
  // One async frame per call and no closure: `message:send` runs this thousands of times a
  // second, and what it allocates is what the gateway's young generation has to collect.
  return async (socket, args) => {
    const last = args[args.length - 1];
    const reply = typeof last === 'function' ? (last as Reply) : undefined;
    const raw = reply && args.length === 1 ? undefined : args[0];
    inFlight.begin();
    try {
      const payload = spec.payload.parse(raw);
      const userId = socket.data.userId;
      const result = ack.safeParse(await spec.handler({ payload, userId, socket, services }));
      // Our fault, not the client's: acked INTERNAL, and logged.
      if (!result.success) throw new Error(`${spec.event}: the ack does not match its schema`);
      reply?.({ ok: true, ...result.data });
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'INTERNAL') {
        logger.error({ err: error, event: spec.event }, 'socket handler failed');
      } else if (appError !== error && appError.code === 'UNAVAILABLE') {
        logger.warn({ err: error, event: spec.event }, 'socket handler: dependency unavailable');
      }
      reply?.({ ok: false, error: appError.toBody() });
    } finally {
      inFlight.end();
    }
  };
}

function unacked(spec: AnyEventSpec, { services, logger }: EventMountContext): SharedHandler {
  const failed = (error: unknown) =>
    logger.error({ err: error, event: spec.event }, 'socket handler failed');
  return (socket, [raw]) => {
    const parsed = spec.payload.safeParse(raw);
    if (!parsed.success) return;
    const userId = socket.data.userId;
    try {
      Promise.resolve(spec.handler({ payload: parsed.data, userId, socket, services })).catch(
        failed,
      );
    } catch (error) {
      failed(error);
    }
  };
}
