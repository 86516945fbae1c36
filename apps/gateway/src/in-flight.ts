/**
 * Counts the work sockets started (sends being stored, presence being recorded) so a draining pod
 * can wait for all of it before it closes its database and Redis connections.
 */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  get size(): number {
    return this.count;
  }

  async track<T>(work: Promise<T>): Promise<T> {
    this.begin();
    try {
      return await work;
    } finally {
      this.end();
    }
  }

  /** Counts work that has started; `end` must follow once it is over, whatever its outcome. */
  begin(): void {
    this.count++;
  }

  end(): void {
    this.count--;
    if (this.count === 0) this.waiters.splice(0).forEach((resolve) => resolve());
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
