import type { Logger } from './logger';

/**
 * Runs a task every `intervalMs` until stopped, never two runs at once (a run still going when the
 * next tick comes skips that tick). A failed run is logged; the next tick tries again.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly name: string,
    private readonly task: () => Promise<unknown>,
    private readonly logger?: Logger,
  ) {}

  start(intervalMs: number): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.task()
        .catch((error: unknown) => this.logger?.error({ err: error }, `${this.name} failed`))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
