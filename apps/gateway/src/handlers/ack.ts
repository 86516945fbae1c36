import { toAppError } from '@mm/core';
import { type Logger } from '@mm/platform';
import type { Ack } from '@mm/client/contract';
import type { InFlight } from '../in-flight';

export interface HandlerContext {
  logger: Logger;
  /** Work a draining pod waits for before it closes. */
  inFlight: InFlight;
}

type Reply<T> = (res: Ack<T>) => void;

/**
 * Wraps an event handler: runs it, acks `{ ok: true, ...result }` or `{ ok: false, error }`.
 * A client that sends no ack callback still gets the work done; one that sends only a callback
 * (no payload) gets VALIDATION_FAILED. Nothing it sends can throw out of here and crash the
 * process, and an unexpected failure is answered INTERNAL without its message.
 */
export function withAck<T extends object>(
  { logger, inFlight }: HandlerContext,
  run: (payload: unknown) => Promise<T>,
) {
  return async (...args: unknown[]): Promise<void> => {
    const last = args.at(-1);
    const reply = typeof last === 'function' ? (last as Reply<T>) : undefined;
    const payload = reply && args.length === 1 ? undefined : args[0];
    try {
      const result = await inFlight.track(run(payload));
      reply?.({ ok: true, ...result });
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'INTERNAL') logger.error({ err: error }, 'socket handler failed');
      else if (appError !== error && appError.code === 'UNAVAILABLE')
        logger.warn({ err: error }, 'socket handler: dependency unavailable');
      reply?.({ ok: false, error: appError.toBody() });
    }
  };
}
