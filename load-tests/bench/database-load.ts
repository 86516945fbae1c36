// PostgreSQL's work for one application, apart from everything else on a shared server: the CPU of
// the backends node-postgres opened under its application_name (PGAPPNAME), read from /proc.
import { Client } from 'pg';
import { round } from './stats';
import { cpuMsOf } from './systems';

/** What PostgreSQL spent on one application's connections, sampled while it was watched. */
export interface DatabaseLoad {
  backend_cpu_ms: number;
  /** Busy cores' worth: backend CPU over the wall time watched. */
  backend_cpu_share: number;
  connections_max: number;
  active_connections_max: number;
  active_connections_mean: number;
}

/** Samples pg_stat_activity for the backends of `applicationName` every 250 ms until stopped. */
export function watchDatabase(url: string, applicationName: string) {
  const client = new Client({ connectionString: url });
  const cpuAtStart = new Map<number, number>();
  const cpuSeen = new Map<number, number>();
  const active: number[] = [];
  let connectionsMax = 0;
  let timer: NodeJS.Timeout | undefined;
  let first = true;
  let stopped = false;
  const sample = async () => {
    const { rows } = await client.query<{ pid: number; state: string | null }>(
      'SELECT pid, state FROM pg_stat_activity WHERE application_name = $1',
      [applicationName],
    );
    connectionsMax = Math.max(connectionsMax, rows.length);
    active.push(rows.filter((r) => r.state === 'active').length);
    for (const { pid } of rows) {
      const cpu = cpuMsOf(pid);
      // A backend open before the watch counts from there; one opened during it, all of it.
      if (!cpuAtStart.has(pid)) cpuAtStart.set(pid, first ? cpu : 0);
      cpuSeen.set(pid, Math.max(cpuSeen.get(pid) ?? 0, cpu));
    }
    first = false;
  };
  let startedAt = 0;
  return {
    async start() {
      await client.connect();
      await sample(); // the backends already open count from here
      startedAt = performance.now();
      const tick = () => {
        // A sample in flight when `stop` came must not schedule another: it would run forever.
        if (!stopped) timer = setTimeout(() => void sample().then(tick, tick), 250);
      };
      tick();
    },
    async stop(): Promise<DatabaseLoad> {
      stopped = true;
      clearTimeout(timer);
      await sample().catch(() => undefined);
      await client.end();
      const cpu = [...cpuSeen].reduce((sum, [pid, ms]) => sum + ms - (cpuAtStart.get(pid) ?? 0), 0);
      return {
        backend_cpu_ms: Math.round(cpu),
        backend_cpu_share: round(cpu / (performance.now() - startedAt), 2),
        connections_max: connectionsMax,
        active_connections_max: Math.max(0, ...active),
        active_connections_mean: round(active.reduce((a, b) => a + b, 0) / active.length, 1),
      };
    },
  };
}
