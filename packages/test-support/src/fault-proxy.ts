import { connect as tcpConnect, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does to traffic right now:
 * - `pass`: forwards every byte as it comes;
 * - `blackhole`: accepts connections and reads from both ends but forwards nothing, as a network
 *   partition or a server stuck on I/O would. Nothing is lost: like TCP retransmitting once the
 *   partition heals, what was held is delivered in order on `restore()` (if the ends are still
 *   there: a client that gave up and closed its socket meanwhile is simply gone);
 * - `latency`: delays every chunk, in both directions, by `ms`, keeping the order.
 */
export type FaultMode = { kind: 'pass' } | { kind: 'blackhole' } | { kind: 'latency'; ms: number };

/** One direction of one proxied connection: keeps its chunks in order whatever the mode does. */
class Lane {
  /** Chunks held by a blackhole; `null` stands for the end of the stream. */
  private held: (Buffer | null)[] = [];
  /** When the last delayed chunk goes out: a later one never overtakes it. */
  private lastRelease = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly to: Socket,
    private readonly mode: () => FaultMode,
  ) {}

  push(chunk: Buffer | null): void {
    const mode = this.mode();
    if (mode.kind === 'blackhole' || this.held.length > 0) {
      this.held.push(chunk);
      return;
    }
    const now = Date.now();
    const releaseAt = Math.max(now + (mode.kind === 'latency' ? mode.ms : 0), this.lastRelease);
    if (releaseAt <= now) {
      this.deliver(chunk);
      return;
    }
    this.lastRelease = releaseAt;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.deliver(chunk);
    }, releaseAt - now);
    this.timers.add(timer);
  }

  /** Sends on what a blackhole held, through whatever mode is now in force. */
  flush(): void {
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.push(chunk);
  }

  stop(): void {
    this.timers.forEach(clearTimeout);
    this.timers.clear();
    this.held = [];
  }

  private deliver(chunk: Buffer | null): void {
    if (this.to.destroyed) return;
    if (chunk === null) this.to.end();
    else this.to.write(chunk);
  }
}

/** A client connection and its upstream connection. */
interface Link {
  client: Socket;
  upstream: Socket;
  lanes: Lane[];
}

/**
 * A fault-injecting TCP proxy on loopback, put between a service and a dependency (PostgreSQL,
 * Redis) so a test can cut its connections, blackhole it or slow it down, and then restore it,
 * without touching the dependency itself.
 */
export class FaultProxy {
  private readonly server: Server;
  private readonly links = new Set<Link>();
  private current: FaultMode = { kind: 'pass' };
  port = 0;

  constructor(
    /** The dependency's port on 127.0.0.1. */
    public readonly target: number,
  ) {
    this.server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
  }

  get mode(): FaultMode {
    return this.current;
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.links.size;
  }

  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve(this);
      });
    });
  }

  /** Forwards nothing from now on, on open connections and new ones alike, until `restore()`. */
  blackhole(): void {
    this.current = { kind: 'blackhole' };
  }

  /** Delays every chunk by `ms` in each direction until `restore()`. */
  latency(ms: number): void {
    this.flushAfter({ kind: 'latency', ms });
  }

  /** Back to forwarding every byte as it comes; what a blackhole held is delivered first. */
  restore(): void {
    this.flushAfter({ kind: 'pass' });
  }

  /** Resets every open connection at once (RST both ways), as a reset network or dead host would. */
  cut(): void {
    for (const link of this.links) this.drop(link, true);
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private flushAfter(mode: FaultMode): void {
    this.current = mode;
    for (const link of this.links) link.lanes.forEach((lane) => lane.flush());
  }

  private accept(client: Socket): void {
    const upstream = tcpConnect({ port: this.target, host: '127.0.0.1', allowHalfOpen: true });
    const mode = () => this.current;
    const link: Link = {
      client,
      upstream,
      lanes: [new Lane(upstream, mode), new Lane(client, mode)],
    };
    this.links.add(link);
    const [toUpstream, toClient] = link.lanes as [Lane, Lane];
    for (const [from, lane] of [
      [client, toUpstream],
      [upstream, toClient],
    ] as const) {
      from.on('data', (chunk: Buffer) => lane.push(chunk));
      from.on('end', () => lane.push(null));
      // A reset or refused connection on either side resets the other, so the client sees an
      // error (ECONNRESET) where it would have seen one (ECONNRESET, ECONNREFUSED) without the proxy.
      from.on('error', () => this.drop(link, true));
      // Closed before its stream ended (destroyed, reset): the other end goes too. Closed after a
      // clean end: the link is done once both ends are.
      from.on('close', () => {
        if (!from.readableEnded || (client.destroyed && upstream.destroyed)) this.drop(link);
      });
    }
  }

  private drop(link: Link, reset = false): void {
    link.lanes.forEach((lane) => lane.stop());
    for (const socket of [link.client, link.upstream]) {
      // Never after our own end(): resetting a socket already shut down for writing spins Node
      // (libuv) at full CPU.
      if (reset && !socket.destroyed && !socket.connecting && !socket.writableEnded) {
        socket.resetAndDestroy();
      } else {
        socket.destroy();
      }
    }
    this.links.delete(link);
  }
}
