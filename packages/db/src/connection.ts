import {
  CompiledQuery,
  Kysely,
  PGliteDialect,
  PostgresAdapter,
  PostgresDialect,
  PostgresDriver,
  sql,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type LogEvent,
  type PostgresDialectConfig,
  type TransactionSettings,
} from 'kysely';
import { Client, Pool, types as pgTypes, type ClientConfig } from 'pg';
import type { Database } from './schema';

/** Where the data lives: a real PostgreSQL, or PGlite in a local folder (the embedded default). */
export type DatabaseConfig =
  | {
      kind: 'postgres';
      url: string;
      poolSize: number;
      /** Every wait on PostgreSQL is bounded by these; defaults in `DEFAULT_POSTGRES_TIMEOUTS`. */
      timeouts?: Partial<PostgresTimeouts>;
    }
  | {
      kind: 'pglite';
      dataDir: string;
      /** PostgreSQL settings over `PGLITE_DEFAULT_SETTINGS` (`PGLITE_SETTINGS`). */
      settings?: Record<string, string>;
    };

/**
 * What PGlite's PostgreSQL is started with besides PGlite's own flags. shared_buffers is most of
 * its resident memory: PostgreSQL writes its whole buffer pool when it starts, so the stock
 * 128MB is that many MB of RSS before the first query. 16MB (2,048 pages) holds the embedded
 * default's working set many times over, and a page it drops is still in the OS's file cache.
 * The other memory settings are only taken when a query uses them, so they are left as they are
 * (docs/benchmarks.md, "The embedded default's memory", has the measurements).
 */
export const PGLITE_DEFAULT_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
};

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** The pg pool, for health and metrics; absent on PGlite. */
  pool?: Pool;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Called after every query: the hook metrics and slow-query logs attach to. */
  onQuery?: (event: LogEvent) => void;
  /**
   * Called when a pooled connection fails outside a query (PostgreSQL restarted, the network cut
   * it): the pool drops that connection and opens a new one when next needed. Without a listener
   * such an error would end the process.
   */
  onConnectionError?: (error: Error) => void;
}

/**
 * The bounds on every wait for PostgreSQL, so an unreachable or silent database makes requests
 * fail fast (503) instead of hanging. docs/operations.md describes them.
 */
export interface PostgresTimeouts {
  /** Longest wait for a pool connection, opening a new one included (pg `connectionTimeoutMillis`). */
  acquireMs: number;
  /**
   * `statement_timeout` in every transaction (`SET LOCAL`, so it works through a pooler). A
   * statement that gets no answer at all within this plus 500 ms (a silent server or network)
   * has its connection closed, so the caller fails and the pool opens a fresh one. 0: no limit.
   */
  statementMs: number;
  /** `idle_in_transaction_session_timeout` in every transaction (`SET LOCAL`). */
  idleInTransactionMs: number;
  /** An idle pool connection is closed after this long (pg `idleTimeoutMillis`). */
  idleMs: number;
  /** Every connection is replaced after this long, so none outlives a failover (0: never). */
  maxLifetimeSeconds: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  acquireMs: 5_000,
  statementMs: 4_000,
  idleInTransactionMs: 30_000,
  idleMs: 30_000,
  maxLifetimeSeconds: 1_800,
};

/** What a statement may take beyond `statementMs` (the server's own timeout answers first). */
const ANSWER_GRACE_MS = 500;

// Both drivers hand rows back in the same JS types: int8 (ids, counts) as number (ids stay far below
// 2^53), `date` as its 'YYYY-MM-DD' text (a Date would shift it by the time zone), and `bytea` as
// a Buffer (pg's own parser does that; PGlite's gives a plain Uint8Array).
const INT8 = 20;
const DATE = 1082;
const BYTEA = 17;
const parseInt8 = (value: string) => Number(value);
const keepText = (value: string) => value;
/** bytea in Postgres's hex output format: `\x` and two hex digits a byte. */
const parseBytea = (value: string) => Buffer.from(value.slice(2), 'hex');

const pgTypeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return parseInt8;
    if (oid === DATE) return keepText;
    return pgTypes.getTypeParser(oid, format);
  },
} as unknown as typeof pgTypes;

export async function openDatabase(
  config: DatabaseConfig,
  options: DatabaseOptions = {},
): Promise<DatabaseHandle> {
  const log = options.onQuery;
  if (config.kind === 'postgres') {
    const timeouts = { ...DEFAULT_POSTGRES_TIMEOUTS, ...config.timeouts };
    const pool = new Pool({
      connectionString: config.url,
      max: config.poolSize,
      types: pgTypeParsers,
      connectionTimeoutMillis: timeouts.acquireMs,
      idleTimeoutMillis: timeouts.idleMs,
      maxLifetimeSeconds: timeouts.maxLifetimeSeconds,
      ...(timeouts.statementMs > 0 && {
        Client: answerDeadlineClient(timeouts.statementMs + ANSWER_GRACE_MS),
      }),
      // No `options` startup parameter (a transaction pooler refuses it) and no session state: the
      // schema is the role's search_path (`ALTER ROLE … SET search_path`), settings are SET LOCAL.
    });
    // Every client gets a listener of its own: an idle client's error also reaches the pool (which
    // must listen too, or it throws), a checked-out one's only the client. A dying connection
    // often errs twice (the server's FATAL, then the end of the socket): reported once.
    const failed = new WeakSet<object>();
    pool.on('error', () => undefined);
    pool.on('connect', (client) =>
      client.on('error', (error) => {
        if (failed.has(client)) return;
        failed.add(client);
        options.onConnectionError?.(error);
      }),
    );
    const db = new Kysely<Database>({
      dialect: new BoundedPostgresDialect({ pool }, timeouts),
      ...(log && { log }),
    });
    return { db, pool, close: () => db.destroy() };
  }
  // PGlite is WASM: imported lazily so scaled pods never load it.
  const { PGlite } = await import('@electric-sql/pglite');
  const settings = { ...PGLITE_DEFAULT_SETTINGS, ...config.settings };
  const pglite = await PGlite.create(config.dataDir, {
    parsers: { [INT8]: parseInt8, [DATE]: keepText, [BYTEA]: parseBytea },
    // PGlite's own flags kept, each setting after them (a later `-c` wins over an earlier one).
    startParams: [
      ...PGlite.defaultStartParams,
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    // initdb of a new DATA_DIR runs a PostgreSQL too: the same settings keep it as small (they
    // are also written to that folder's postgresql.conf, which the `-c` above override).
    initDbStartParams: Object.entries(settings).flatMap(([name, value]) => [
      '--set',
      `${name}=${value}`,
    ]),
  });
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }), ...(log && { log }) });
  return {
    db,
    async close() {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A pg client that closes its connection when a query gets no answer within `deadlineMs`: pg
 * itself would wait forever on a server (or network) that keeps the TCP connection open but
 * stops answering. The query fails with a connection error, and the pool drops the connection.
 */
function answerDeadlineClient(deadlineMs: number): typeof Client {
  return class AnswerDeadlineClient extends Client {
    constructor(config?: string | ClientConfig) {
      super(config);
    }

    override query(...args: unknown[]): any {
      const result = (super.query as (...a: unknown[]) => unknown)(...args);
      if (!(result instanceof Promise)) return result; // callback and cursor forms: not ours
      const timer = setTimeout(() => {
        const connection = (
          this as unknown as { connection?: { stream?: { destroy(e: Error): void } } }
        ).connection;
        connection?.stream?.destroy(
          new Error(`Connection terminated: no answer from PostgreSQL within ${deadlineMs} ms`),
        );
      }, deadlineMs);
      return result.finally(() => clearTimeout(timer));
    }
  } as typeof Client;
}

/**
 * PostgreSQL's own timeouts, set at the start of every transaction with `SET LOCAL` (not as a
 * connection option, which a pooler such as PgBouncer refuses or shares): a statement that runs too
 * long is cancelled, and a transaction a crashed caller left open releases its locks.
 */
class BoundedPostgresDialect extends PostgresDialect {
  constructor(
    private readonly dialectConfig: PostgresDialectConfig,
    private readonly timeouts: PostgresTimeouts,
  ) {
    super(dialectConfig);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionLockAdapter();
  }

  override createDriver(): Driver {
    const setLocal = CompiledQuery.raw(
      `select set_config('statement_timeout', $1, true), ` +
        `set_config('idle_in_transaction_session_timeout', $2, true)`,
      [`${this.timeouts.statementMs}ms`, `${this.timeouts.idleInTransactionMs}ms`],
    );
    return new (class extends PostgresDriver {
      override async beginTransaction(
        connection: DatabaseConnection,
        settings: TransactionSettings,
      ): Promise<void> {
        await super.beginTransaction(connection, settings);
        await connection.executeQuery(setLocal);
      }
    })(this.dialectConfig);
  }
}

/** kysely's own migration lock key (its PostgresAdapter's), so both kinds of lock exclude each other. */
const MIGRATION_LOCK_ID = 3853314791062309107n;

/**
 * Takes the migration lock with `pg_advisory_xact_lock`, which the transaction's end releases:
 * kysely's default is a session lock taken and released outside the migration's transaction,
 * which through a transaction pooler may land on two server sessions and stay held. Only
 * meaningful when the migrator is handed a transaction (migrate.ts does).
 */
class TransactionLockAdapter extends PostgresAdapter {
  override async acquireMigrationLock(db: Kysely<any>): Promise<void> {
    await sql`select pg_advisory_xact_lock(${sql.lit(MIGRATION_LOCK_ID)})`.execute(db);
  }

  override async releaseMigrationLock(): Promise<void> {
    // released when the transaction ends
  }
}
