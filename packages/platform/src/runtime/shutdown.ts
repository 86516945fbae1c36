import type { Logger } from '../logger';

/**
 * Runs `close` once on SIGTERM or SIGINT, then exits: 0 when everything closed, 1 otherwise. A second
 * signal while closing is ignored; a close that hangs past `timeoutMs` exits 1.
 */
export function closeOnSignal(
  logger: Logger,
  close: () => Promise<void>,
  timeoutMs = 30_000,
): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
