import { pingDatabase } from '@mm/db';
import type { RedisClient } from '@mm/core';
import type { Kysely } from 'kysely';
import type { PoolStats } from './metrics';
import { ResourceMonitor } from './resources';

export interface HealthDeps {
  /** The database readiness pings (`select 1`): Postgres or PGlite. */
  db?: Kysely<any>;
  /** The pg pool, for `/health/db-pool`; absent on PGlite. */
  pool?: PoolStats;
  /** Redis connections that must be up for the process to serve, by name. */
  redis?: Record<string, RedisClient>;
  /** True once the process is shutting down: readiness fails so traffic goes elsewhere. */
  isDraining?: () => boolean;
  /** What the process serves now: sockets on a gateway, in-flight requests on an API. */
  load?: () => Record<string, number>;
  /** How long a dependency may take to answer before it counts as down. */
  checkTimeoutMs?: number;
}

export type CheckStatus = 'ok' | 'down';

export interface Readiness {
  ready: boolean;
  status: 'ready' | 'draining' | 'unavailable';
  checks: Record<string, CheckStatus>;
}

/**
 * Liveness, readiness and the resource report. Liveness only says the process serves: a Postgres or
 * Redis outage must not make Kubernetes restart every pod. Readiness fails while draining or while
 * a dependency is unreachable, so the pod gets no new traffic until it could serve it.
 */
export class HealthChecks {
  private readonly resources = new ResourceMonitor();
  private readonly timeoutMs: number;

  constructor(private readonly deps: HealthDeps = {}) {
    this.timeoutMs = deps.checkTimeoutMs ?? 2_000;
  }

  get draining(): boolean {
    return this.deps.isDraining?.() ?? false;
  }

  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  async ready(): Promise<Readiness> {
    const checks = await this.dependencies();
    const reachable = Object.values(checks).every((check) => check === 'ok');
    const status = this.draining ? 'draining' : reachable ? 'ready' : 'unavailable';
    return { ready: status === 'ready', status, checks };
  }

  /** `/health`: the process serves (always 200), with its dependencies, resources and load. */
  async report(): Promise<Record<string, unknown>> {
    const readiness = await this.ready();
    return {
      status: readiness.ready ? 'ok' : readiness.status === 'draining' ? 'draining' : 'degraded',
      uptime_s: Math.round(process.uptime()),
      checks: readiness.checks,
      ...this.resources.snapshot(),
      ...this.deps.load?.(),
    };
  }

  /** `/health/db-pool`: connections of the pg pool (PGlite has none). */
  dbPool(): Record<string, unknown> {
    const pool = this.deps.pool;
    if (!pool) return { kind: this.deps.db ? 'pglite' : 'none' };
    return {
      kind: 'postgres',
      max: pool.options?.max ?? null,
      total: pool.totalCount,
      idle: pool.idleCount,
      in_use: pool.totalCount - pool.idleCount,
      waiting: pool.waitingCount,
    };
  }

  close(): void {
    this.resources.close();
  }

  private async dependencies(): Promise<Record<string, CheckStatus>> {
    const { db, redis = {} } = this.deps;
    const checks: [string, Promise<CheckStatus>][] = Object.entries(redis).map(
      ([name, connection]) => [
        `redis_${name}`,
        // Until ioredis is 'ready' again, commands would only queue; once it is, a PING must be
        // answered in time, or a Redis that holds the connection open but never answers (a
        // network partition) would count as up.
        connection.status === 'ready'
          ? this.withinTimeout(connection.ping())
          : Promise.resolve('down'),
      ],
    );
    if (db) checks.unshift(['postgres', this.withinTimeout(pingDatabase(db))]);
    const statuses = await Promise.all(checks.map(([, check]) => check));
    return Object.fromEntries(checks.map(([name], i) => [name, statuses[i]!]));
  }

  private withinTimeout(check: Promise<unknown>): Promise<CheckStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckStatus>((resolve) => {
      timer = setTimeout(() => resolve('down'), this.timeoutMs);
      timer.unref();
    });
    const outcome = check.then(
      (): CheckStatus => 'ok',
      (): CheckStatus => 'down',
    );
    return Promise.race([outcome, timeout]).finally(() => clearTimeout(timer));
  }
}
