import { monitorEventLoopDelay } from 'node:perf_hooks';
import os from 'node:os';

/** The memory this process may use: its container's (cgroup) limit when set, else the machine's. */
export function memoryLimitBytes(): number {
  const total = os.totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/**
 * Memory, CPU and event-loop lag as `/health` reports them. CPU and lag cover the time since the
 * previous report (the first covers the time since start).
 */
export class ResourceMonitor {
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();

  constructor() {
    this.loopDelay.enable();
  }

  snapshot() {
    const memory = process.memoryUsage();
    const limit = memoryLimitBytes();
    const available =
      typeof process.availableMemory === 'function'
        ? process.availableMemory()
        : Math.max(0, limit - memory.rss);

    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMicros = Math.max(1, (now - this.lastAt) * 1000);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;

    const ms = (nanos: number) => Math.round(nanos / 1e4) / 100;
    const eventLoop = {
      lag_mean_ms: Number.isFinite(this.loopDelay.mean) ? ms(this.loopDelay.mean) : 0,
      lag_p99_ms: ms(this.loopDelay.percentile(99)),
      lag_max_ms: ms(this.loopDelay.max),
    };
    this.loopDelay.reset();

    return {
      memory: {
        rss_bytes: memory.rss,
        heap_used_bytes: memory.heapUsed,
        limit_bytes: limit,
        percent: Math.round((memory.rss / limit) * 1000) / 10,
        available_bytes: available,
      },
      cpu: {
        /** Of one core: 100 means one core busy the whole time. */
        percent: Math.round(((cpu.user + cpu.system) / elapsedMicros) * 1000) / 10,
        cores: os.availableParallelism(),
        load_avg_1m: Math.round(os.loadavg()[0]! * 100) / 100,
      },
      event_loop: eventLoop,
    };
  }

  close(): void {
    this.loopDelay.disable();
  }
}
