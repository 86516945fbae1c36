import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testDatabaseUrl, type TestSchema } from '@mm/db/testing';
import { closedPort } from './http';

/**
 * A PgBouncer of the test's own (Debian's `pgbouncer`, 1.18) in transaction mode on a spare
 * loopback port, in front of the tests' PostgreSQL: what production runs between the pods and the
 * database (k8s/README.md, "PgBouncer"). Its config lives in a temporary folder; `stop()` ends it,
 * or a watchdog does should the test process die first. It accepts the test roles it is given
 * (its auth_file lists them; `auth_type = trust`) and logs into PostgreSQL as them, so each test
 * file's role (and so its schema, the role's search_path) holds through it.
 */
export interface PgBouncerOptions {
  /** The roles that may connect (each test file's own). */
  roles: Array<Pick<TestSchema, 'role' | 'password'>>;
  /** Server connections per database and role (`default_pool_size`). */
  poolSize: number;
  /** Client connections it accepts in all (`max_client_conn`). */
  maxClientConnections?: number;
  /** Server connections per database in all (`max_db_connections`); 0: no limit. */
  maxDbConnections?: number;
}

/** Binary and config folder are readable by the `postgres` user it drops to when run as root. */
const asRoot = process.getuid?.() === 0;

export class PgBouncer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly reaper: ChildProcess,
    readonly port: number,
  ) {}

  /** `test.url` through this PgBouncer: same role, password and database. */
  url(test: Pick<TestSchema, 'url'>): string {
    const url = new URL(test.url);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  static start(options: PgBouncerOptions, timeoutMs = 20_000): Promise<PgBouncer> {
    const upstream = new URL(testDatabaseUrl);
    const quoted = (text: string) => `"${text.replace(/"/g, '""')}"`;
    return PgBouncer.run(
      (port, dir) => ({
        'userlist.txt': options.roles
          .map(({ role, password }) => `${quoted(role)} ${quoted(password)}\n`)
          .join(''),
        'pgbouncer.ini': [
          '[databases]',
          `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
          '[pgbouncer]',
          'listen_addr = 127.0.0.1',
          `listen_port = ${port}`,
          'unix_socket_dir =',
          'auth_type = trust',
          `auth_file = ${path.join(dir, 'userlist.txt')}`,
          'pool_mode = transaction',
          `default_pool_size = ${options.poolSize}`,
          `max_client_conn = ${options.maxClientConnections ?? 200}`,
          `max_db_connections = ${options.maxDbConnections ?? 0}`,
          // A client waiting longer than this for a server connection gets an error.
          'query_wait_timeout = 30',
          '',
        ].join('\n'),
      }),
      timeoutMs,
    );
  }

  /**
   * Runs PgBouncer on files of the caller's (`pgbouncer.ini` is the config), written to a fresh
   * temporary folder: `files` gets the spare port to listen on and the folder.
   */
  static async run(
    files: (port: number, dir: string) => Record<string, string>,
    timeoutMs = 20_000,
  ): Promise<PgBouncer> {
    const port = await closedPort();
    const dir = mkdtempSync(path.join(tmpdir(), 'mm-pgbouncer-'));
    chmodSync(dir, 0o755);
    for (const [name, content] of Object.entries(files(port, dir))) {
      writeFileSync(path.join(dir, name), content, { mode: 0o644 });
    }
    const config = path.join(dir, 'pgbouncer.ini');
    const child = spawn('pgbouncer', [...(asRoot ? ['-u', 'postgres'] : []), config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const reaper = startReaper(child, dir);
    const bouncer = new PgBouncer(child, dir, reaper, port);
    try {
      await untilListening(child, timeoutMs);
    } catch (error) {
      await bouncer.stop();
      throw error;
    }
    return bouncer;
  }

  /** Ends it (SIGINT: at once, dropping its connections) and removes its folder. */
  async stop(): Promise<void> {
    this.reaper.kill();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGINT');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves once PgBouncer logs that it listens on TCP; rejects if it exits first. */
function untilListening(child: ChildProcess, timeoutMs: number): Promise<void> {
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pgbouncer did not start in ${timeoutMs} ms:\n${output.join('')}`)),
      timeoutMs,
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`pgbouncer could not start (is it installed?): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pgbouncer exited with ${code}:\n${output.join('')}`));
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        output.push(chunk.toString());
        if (output.join('').includes('process up')) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/**
 * A detached watchdog that ends PgBouncer and removes its folder once the test process is gone:
 * the clean-up for a runner killed before its afterAll could run. `stop()` ends the watchdog.
 */
function startReaper(child: ChildProcess, dir: string): ChildProcess {
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `kill -INT ${child.pid} 2>/dev/null`,
    `rm -rf '${dir}'`,
  ].join('\n');
  const reaper = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  reaper.unref();
  return reaper;
}
