import { AppError } from '../errors';

/**
 * The sockets each user holds on this process, and the most one user may hold (0: no cap).
 *
 * Counted per process, not across pods, on purpose: what a cap protects is a process's memory
 * and fan-out, and a process knows its own sockets exactly, with no round trip. The presence
 * store's count across pods would include the entries a draining pod leaves to expire, so a
 * user near the cap would be refused while their clients move to another pod. A user may thus
 * hold up to the cap on each gateway pod; the embedded default is one process, so the cap is
 * the user's whole allowance there.
 *
 * It is also this process's one record of its sockets: the presence heartbeat refreshes the
 * sockets it holds (`forEach`), rather than keep a second map of the same sockets per process.
 */
export class SocketCap {
  /** A user's one socket id as it is (most users hold one), a Set only from the second on. */
  private readonly held = new Map<number, string | Set<string>>();

  constructor(readonly max: number) {}

  /** Counts `socketId` as one of `userId`'s, or throws TOO_MANY_CONNECTIONS at the cap. */
  admit(userId: number, socketId: string): void {
    const held = this.held.get(userId);
    // The first socket is always admitted: a cap is 0 (none) or at least 1.
    if (held === undefined || held === socketId) {
      this.held.set(userId, socketId);
      return;
    }
    const sockets = typeof held === 'string' ? new Set([held]) : held;
    if (this.max > 0 && sockets.size >= this.max && !sockets.has(socketId)) {
      throw new AppError(
        'TOO_MANY_CONNECTIONS',
        `You already hold ${this.max} connections: close one first.`,
        { limit: this.max },
      );
    }
    sockets.add(socketId);
    this.held.set(userId, sockets);
  }

  /** The socket is gone (or never connected); releasing one twice is harmless. */
  release(userId: number, socketId: string): void {
    const held = this.held.get(userId);
    if (held === socketId) this.held.delete(userId);
    else if (typeof held === 'object' && held.delete(socketId) && held.size === 0)
      this.held.delete(userId);
  }

  /** Calls `visit` with each socket held on this process, and its user. */
  forEach(visit: (userId: number, socketId: string) => void): void {
    for (const [userId, held] of this.held) {
      if (typeof held === 'string') visit(userId, held);
      else for (const socketId of held) visit(userId, socketId);
    }
  }

  /** Sockets `userId` holds on this process. */
  count(userId: number): number {
    const held = this.held.get(userId);
    return held === undefined ? 0 : typeof held === 'string' ? 1 : held.size;
  }
}
