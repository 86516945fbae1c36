import { toAppError, type Logger } from '@mm/core';
import type { Ack } from '@mm/client/contract';

/**
 * Wraps an event handler: runs it, acks `{ ok: true, ...result }` or `{ ok: false, error }`.
 * A client that sends no ack callback still gets the work done; nothing it sends can throw out of
 * here and crash the process.
 */
export function withAck<T extends object>(logger: Logger, run: (payload: unknown) => Promise<T>) {
  return async (payload: unknown, ack?: unknown): Promise<void> => {
    const reply = typeof ack === 'function' ? (ack as (res: Ack<T>) => void) : undefined;
    try {
      const result = await run(payload);
      reply?.({ ok: true, ...result });
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'INTERNAL') logger.error({ err: error }, 'socket handler failed');
      reply?.({ ok: false, error: appError.toBody() });
    }
  };
}
