/** What one `/health/ready` probe found: like a Kubernetes probe, anything but a 200 in time fails. */
export type ProbeOutcome = 'ready' | 'unready' | 'timeout' | 'refused';

export interface ProbeSample {
  at: number;
  outcome: ProbeOutcome;
}

/**
 * Polls `/health/ready` of named processes in the background, the way a kubelet's readiness probe
 * does (a period and a timeout), and keeps what every probe found, so a test can ask afterwards
 * whether a process went unready during a fault and came back.
 */
export class ReadinessMonitor {
  private readonly samples = new Map<string, ProbeSample[]>();
  private readonly loops = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    /** The base URL of each process now (it changes when a killed process is replaced). */
    private readonly targets: () => Record<string, string>,
    private readonly periodMs = 200,
    private readonly timeoutMs = 1_000,
  ) {}

  start(): void {
    for (const name of Object.keys(this.targets())) {
      this.samples.set(name, []);
      this.loops.set(name, this.loop(name));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops.values());
  }

  /** The samples of a process taken at or after `since`. */
  since(name: string, since: number): ProbeSample[] {
    return (this.samples.get(name) ?? []).filter((sample) => sample.at >= since);
  }

  /** The latest sample of a process. */
  last(name: string): ProbeSample | undefined {
    return this.samples.get(name)?.at(-1);
  }

  private async loop(name: string): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      const outcome = await this.probe(this.targets()[name]!);
      this.samples.get(name)!.push({ at: started, outcome });
      const wait = this.periodMs - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  private async probe(url: string): Promise<ProbeOutcome> {
    try {
      const response = await fetch(`${url}/health/ready`, {
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.arrayBuffer();
      return response.status === 200 ? 'ready' : 'unready';
    } catch (error) {
      return (error as Error).name === 'TimeoutError' ? 'timeout' : 'refused';
    }
  }
}
