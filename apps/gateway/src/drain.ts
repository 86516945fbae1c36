import type { Logger } from '@mm/platform';
import type { InFlight } from './in-flight';
import type { GatewayServer } from './socket-server';

export interface DrainOptions {
  /** Over how long the pod's clients are disconnected. */
  windowMs: number;
  inFlight: InFlight;
  logger: Logger;
}

/** The pause between two batches; fewer sockets than batches means one socket per batch. */
const BATCH_INTERVAL_MS = 250;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How often a pause checks whether every client has left already. */
const POLL_MS = 100;

/**
 * A gateway pod's graceful exit (docs/design.md §5): `drain()` makes the pod unready, refuses new
 * connections, closes its clients' connections a batch at a time over the window, so they
 * reconnect to other pods (and `sync`) gradually instead of all at once, then waits for the work
 * they started. Every send that was acked had been stored already; a send cut off before its ack
 * is still finished here, and the client's resend with the same client_id finds it.
 */
export class GatewayDrain {
  private started: Promise<void> | undefined;

  constructor(
    private readonly io: GatewayServer,
    private readonly options: DrainOptions,
  ) {}

  /** True from the moment draining starts: the readiness endpoint answers 503. */
  get draining(): boolean {
    return this.started !== undefined;
  }

  /** Starts draining (once) and resolves when every client is gone and their work is done. */
  drain(): Promise<void> {
    this.started ??= this.run();
    return this.started;
  }

  private socketsLeft(): number {
    return this.io.of('/').sockets.size;
  }

  /** Waits `ms`, or less once no socket is left (clients that leave on their own end it early). */
  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && this.socketsLeft() > 0) {
      await wait(Math.min(POLL_MS, until - Date.now()));
    }
  }

  private async run(): Promise<void> {
    const { io } = this;
    const { logger, windowMs, inFlight } = this.options;
    // New transports are refused at the HTTP level, so clients retry on their own (elsewhere once
    // the pod is out of the Service); a socket connecting on an open transport is refused too.
    io.engine.opts.allowRequest = (_req, callback) => callback('draining', false);
    io.use((_socket, next) =>
      next(
        Object.assign(new Error('This server is shutting down.'), {
          data: { code: 'UNAVAILABLE' },
        }),
      ),
    );

    // Batches spread over the window, the first one interval in: by then the readiness failure has
    // taken the pod out of the Service, so the first clients to reconnect land elsewhere.
    const sockets = [...io.of('/').sockets.values()];
    const batches = Math.max(1, Math.min(sockets.length, Math.floor(windowMs / BATCH_INTERVAL_MS)));
    const size = Math.ceil(sockets.length / batches);
    const interval = windowMs / batches;
    logger.info({ sockets: sockets.length, batches, windowMs }, 'draining');
    for (let i = 0; i < sockets.length && this.socketsLeft() > 0; i += size) {
      await this.pause(interval);
      const batch = sockets.slice(i, i + size).filter((socket) => socket.connected);
      // Closing the transport (not a server-side disconnect) lets every Socket.IO client reconnect
      // by itself.
      batch.forEach((socket) => socket.conn.close());
      logger.info({ disconnected: batch.length, remaining: this.socketsLeft() }, 'drain batch');
    }
    await inFlight.idle();
    logger.info('drained');
  }
}
