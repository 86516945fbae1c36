/**
 * Answers reads of one key with reads of many: the keys asked for in one turn of the event loop go
 * together, read once the turn's I/O callbacks have run (`setImmediate`), and so do the keys asked
 * for while batches are being read (up to `maxBatch` keys a batch, at most `concurrency` batches in
 * flight). A key asked for alone waits for no more than the rest of its turn. Every answer comes
 * from a read that started after it was asked for: a key never joins a batch already in flight.
 *
 * What it is for: after a gateway pod dies, its thousands of clients reconnect to the others within
 * seconds, and each handshake reads the same few things; so read, they cost a query per batch
 * rather than one each (docs/design.md §5, "A pod's death").
 *
 * Why not DataLoader, the usual library for this: it batches the keys asked for within one tick
 * (the promise jobs of one callback) and caches answers. A storm's handshakes arrive over many
 * callbacks, one per connection or Redis reply, so its batches would be of one; a turn of the event
 * loop holds all of the I/O it found ready, and batching while a read is in flight gathers the
 * turns that follow. And a cache would answer an account's standing from before a suspension.
 */
/**
 * How the handshake's reads and the sync after it batch: up to 500 users (cursors, for a sync) a
 * query, two queries in flight per process.
 * One setting for all of them, so a storm's handshakes queue alike whatever they read.
 */
export const CONNECTING_BATCH = { maxBatch: 500, concurrency: 2 } as const;

export class BatchLoader<K, V> {
  private queue = new Map<K, Waiter<V>[]>();
  private inFlight = 0;
  /** A read of what this turn asked for is due at its end. */
  private scheduled = false;

  constructor(
    /** Reads the keys; a key missing from the answer is read as `missing(key)`. */
    private readonly readMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly options: {
      /** Most keys a batch holds; with `weight`, most weight (a heavier key still goes alone). */
      maxBatch: number;
      concurrency: number;
      missing: (key: K) => V;
      /** What a key costs of `maxBatch` (1 unless said). */
      weight?: (key: K) => number;
    },
  ) {}

  load(key: K): Promise<V> {
    return new Promise((resolve, reject) => {
      const waiters = this.queue.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.queue.set(key, [{ resolve, reject }]);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.next();
      });
    });
  }

  private next(): void {
    while (this.inFlight < this.options.concurrency && this.queue.size > 0) {
      const batch = new Map<K, Waiter<V>[]>();
      let weight = 0;
      for (const [key, waiters] of this.queue) {
        const cost = this.options.weight?.(key) ?? 1;
        if (batch.size > 0 && weight + cost > this.options.maxBatch) break;
        weight += cost;
        batch.set(key, waiters);
        this.queue.delete(key);
      }
      this.inFlight++;
      this.read(batch).finally(() => {
        this.inFlight--;
        this.next();
      });
    }
  }

  private async read(batch: Map<K, Waiter<V>[]>): Promise<void> {
    try {
      const values = await this.readMany([...batch.keys()]);
      for (const [key, waiters] of batch) {
        const value = values.has(key) ? values.get(key)! : this.options.missing(key);
        for (const waiter of waiters) waiter.resolve(value);
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }
}

interface Waiter<V> {
  resolve(value: V): void;
  reject(error: unknown): void;
}
