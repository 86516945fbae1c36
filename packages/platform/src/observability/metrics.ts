import type { DomainMetrics, DropReason } from '@mm/core';
import type { DatabaseOptions } from '@mm/db';
import type { LogEvent } from 'kysely';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../logger';
import { memoryLimitBytes } from './resources';

/** What the pool metrics read: pg's `Pool` has these (PGlite has no pool). */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DB_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * One process's Prometheus metrics, on a registry of its own (never prom-client's global one): the
 * embedded default runs api and gateway in one process with one `Metrics`, and tests create many in
 * one jest worker without clashing. `app` becomes a label on every series.
 */
export class Metrics implements DomainMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly dbQueryDuration: Histogram<'kind' | 'outcome'>;
  readonly messagesSent: Counter<'result'>;
  readonly messageWriteBatch: Histogram;
  readonly messagesDelivered: Counter;
  readonly messageAckDuration: Histogram;
  readonly redisAdapterErrors: Counter<'connection'>;
  readonly adapterMessagesReceived: Counter;
  readonly dbConnectionErrors: Counter;
  readonly pushesSent: Counter<'kind'>;
  readonly pushesFailed: Counter<'kind'>;
  readonly pushesDropped: Counter<'kind' | 'reason'>;
  readonly pushQueueAgeSeconds: Gauge;
  /** HTTP requests being served now: a gauge, and part of the API's `/health`. */
  inFlightRequests = 0;
  private readonly socketCounts: (() => number)[] = [];
  private readonly pools: PoolStats[] = [];
  private reportQueueAge: (() => Promise<number>) | undefined;

  constructor(app: string) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ app });
    // Process memory and CPU, heap, GC, and event-loop lag (nodejs_eventloop_lag_*).
    collectDefaultMetrics({ register: this.registry });

    this.httpDuration = new Histogram({
      name: 'mm_http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.dbQueryDuration = new Histogram({
      name: 'mm_db_query_duration_seconds',
      help: 'Database query duration by statement kind and outcome.',
      labelNames: ['kind', 'outcome'],
      buckets: DB_BUCKETS,
      registers,
    });
    this.messagesSent = new Counter({
      name: 'mm_messages_sent_total',
      help: 'Messages sent through this process: stored, or a resend answered with the original.',
      labelNames: ['result'],
      registers,
    });
    // A labelled series appears at its first increment: each known one starts at 0, so that
    // `increase()` sees a process's first one.
    for (const result of ['stored', 'duplicate']) this.messagesSent.inc({ result }, 0);
    this.messageWriteBatch = new Histogram({
      name: 'mm_message_write_batch_size',
      help: 'Messages stored by one append_messages call of this process (MESSAGE_WRITE_INTERVAL_MS).',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
    this.messageAckDuration = new Histogram({
      name: 'mm_message_ack_seconds',
      help: 'message:send on a socket: from the event received to its ack sent, whatever the answer.',
      buckets: ACK_BUCKETS,
      registers,
    });
    this.messagesDelivered = new Counter({
      name: 'mm_messages_delivered_total',
      help: 'message:new frames written to sockets connected to this process.',
      registers,
    });
    this.redisAdapterErrors = new Counter({
      name: 'mm_redis_adapter_errors_total',
      help: 'Errors on the Redis connections of the Socket.IO adapter or emitter.',
      labelNames: ['connection'],
      registers,
    });
    this.adapterMessagesReceived = new Counter({
      name: 'mm_adapter_messages_received_total',
      help: 'Socket.IO adapter messages this process read from Redis pub/sub (its share of the fan-out).',
      registers,
    });
    this.dbConnectionErrors = new Counter({
      name: 'mm_db_connection_errors_total',
      help: 'PostgreSQL connections that failed outside a query (server restarted, network cut).',
      registers,
    });
    this.pushesSent = new Counter({
      name: 'mm_push_sent_total',
      help: 'Pushes the push services accepted for every device of the user, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.pushesFailed = new Counter({
      name: 'mm_push_failed_total',
      help: 'Push attempts a push service refused or did not answer, retried with backoff.',
      labelNames: ['kind'],
      registers,
    });
    this.pushesDropped = new Counter({
      name: 'mm_push_dropped_total',
      help: 'Queued pushes not sent on purpose (online, read, settings, no device, gave up...).',
      labelNames: ['kind', 'reason'],
      registers,
    });
    this.pushQueueAgeSeconds = new Gauge({
      name: 'mm_push_queue_age_seconds',
      help: "Seconds the oldest due push has waited, as this process's sender last saw it.",
      registers,
    });
    for (const kind of ['match', 'message', 'unlock', 'expiring']) {
      this.pushesSent.inc({ kind }, 0);
      this.pushesFailed.inc({ kind }, 0);
    }

    // prom-client calls `collect` with the gauge as `this`; these read the state at scrape time.
    const inFlight = () => this.inFlightRequests;
    const sockets = () => this.socketsConnected();
    const poolCounts = () => this.poolCounts();
    const poolMax = () => this.pools.reduce((sum, pool) => sum + (pool.options?.max ?? 0), 0);
    new Gauge({
      name: 'mm_http_requests_in_flight',
      help: 'HTTP requests being served.',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
    new Gauge({
      name: 'mm_sockets_connected',
      help: 'Socket.IO clients connected to this process.',
      registers,
      collect() {
        this.set(sockets());
      },
    });
    new Gauge({
      name: 'mm_db_pool_connections',
      help: 'pg pool connections by state: total, idle, and waiting (clients queued for one).',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, value] of Object.entries(poolCounts())) this.set({ state }, value);
      },
    });
    new Gauge({
      name: 'mm_db_pool_max',
      help: 'Most connections the pg pool may open.',
      registers,
      collect() {
        this.set(poolMax());
      },
    });
    new Gauge({
      name: 'mm_process_memory_limit_bytes',
      help: "Memory this process may use: the container's limit, or the machine's memory.",
      registers,
      collect() {
        this.set(memoryLimitBytes());
      },
    });
  }

  /**
   * Reads the age of the oldest open report at each scrape (the API's processes: one query per
   * scrape). The first reader registers the gauge; a failed read leaves the last value, so a
   * database away costs the scrape nothing (its own alerts say so).
   */
  observeReportQueue(oldestOpenAgeSeconds: () => Promise<number>): void {
    const first = this.reportQueueAge === undefined;
    this.reportQueueAge = oldestOpenAgeSeconds;
    if (!first) return;
    const read = () => this.reportQueueAge!();
    new Gauge({
      name: 'mm_moderation_oldest_open_report_age_seconds',
      help: 'Seconds since the oldest report still open was filed; 0 with none open.',
      registers: [this.registry],
      async collect() {
        try {
          this.set(await read());
        } catch {
          // Kept as it was: the database's own metrics and alerts tell why.
        }
      },
    });
  }

  /** Counts the sockets of a Socket.IO server at each scrape. */
  observeSockets(count: () => number): void {
    this.socketCounts.push(count);
  }

  socketsConnected(): number {
    return this.socketCounts.reduce((sum, count) => sum + count(), 0);
  }

  /** Reports a pg pool's connections at each scrape; PGlite has none, so `undefined` is ignored. */
  observePool(pool: PoolStats | undefined): void {
    if (pool) this.pools.push(pool);
  }

  poolCounts(): { total: number; idle: number; waiting: number } {
    return this.pools.reduce(
      (sum, pool) => ({
        total: sum.total + pool.totalCount,
        idle: sum.idle + pool.idleCount,
        waiting: sum.waiting + pool.waitingCount,
      }),
      { total: 0, idle: 0, waiting: 0 },
    );
  }

  /** The domain's hook: a message was sent, and stored unless it was a resend. */
  messageSent(created: boolean): void {
    this.messagesSent.inc({ result: created ? 'stored' : 'duplicate' });
  }

  /** The domain's hook: one write call stored a batch of `size` messages. */
  messageBatchWritten(size: number): void {
    this.messageWriteBatch.observe(size);
  }

  pushSent(kind: string): void {
    this.pushesSent.inc({ kind });
  }

  pushFailed(kind: string): void {
    this.pushesFailed.inc({ kind });
  }

  pushDropped(kind: string, reason: DropReason): void {
    this.pushesDropped.inc({ kind, reason });
  }

  pushQueueAge(seconds: number): void {
    this.pushQueueAgeSeconds.set(seconds);
  }

  /** An ioredis `error` listener counting under `connection`; the series starts at 0. */
  redisErrorCounter(connection: string): () => void {
    this.redisAdapterErrors.inc({ connection }, 0);
    return () => this.redisAdapterErrors.inc({ connection });
  }

  /**
   * kysely's `log` hook: times every query, and logs one slower than `slowMs` (the SQL, never the
   * parameters, which hold user data).
   */
  queryObserver(logger: Logger, slowMs: number): (event: LogEvent) => void {
    return (event) => {
      const seconds = event.queryDurationMillis / 1000;
      const kind = statementKind(event.query.query.kind);
      this.dbQueryDuration.observe(
        { kind, outcome: event.level === 'error' ? 'error' : 'ok' },
        seconds,
      );
      if (event.queryDurationMillis >= slowMs) {
        logger.warn(
          { duration_ms: Math.round(event.queryDurationMillis), sql: event.query.sql },
          'slow query',
        );
      }
    };
  }

  /**
   * What `openDatabase` reports to: every query timed (and logged when slow), and every pooled
   * connection that fails outside a query counted and logged (the pool replaces it).
   */
  databaseObserver(logger: Logger, slowMs: number): DatabaseOptions {
    return {
      onQuery: this.queryObserver(logger, slowMs),
      onConnectionError: (error) => {
        this.dbConnectionErrors.inc();
        logger.warn({ err: error }, 'postgres connection error');
      },
    };
  }

  /** The exposition text and its content type, for `/metrics`. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

export function createMetrics(app: string): Metrics {
  return new Metrics(app);
}

/** 'SelectQueryNode' → 'select'; raw `sql` is 'raw'. Few values, so a safe label. */
function statementKind(nodeKind: string): string {
  return nodeKind.replace(/QueryNode$|Node$/, '').toLowerCase();
}
