import { Kysely, PGliteDialect, PostgresDialect, type LogEvent } from 'kysely';
import { Pool, types as pgTypes } from 'pg';
import type { Database } from './schema';

/** Where the data lives: a real PostgreSQL, or PGlite in a local folder (the embedded default). */
export type DatabaseConfig =
  | {
      kind: 'postgres';
      url: string;
      poolSize: number;
      /** Tables live in this schema (search_path); tests give each file its own. */
      schema?: string;
    }
  | { kind: 'pglite'; dataDir: string };

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** The pg pool, for health and metrics; absent on PGlite. */
  pool?: Pool;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Called after every query: the hook metrics and slow-query logs attach to. */
  onQuery?: (event: LogEvent) => void;
}

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
    const pool = new Pool({
      connectionString: config.url,
      max: config.poolSize,
      types: pgTypeParsers,
      ...(config.schema ? { options: `-c search_path=${quoteIdent(config.schema)}` } : {}),
    });
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      ...(log && { log }),
    });
    return { db, pool, close: () => db.destroy() };
  }
  // PGlite is WASM: imported lazily so scaled pods never load it.
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create(config.dataDir, {
    parsers: { [INT8]: parseInt8, [DATE]: keepText, [BYTEA]: parseBytea },
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
