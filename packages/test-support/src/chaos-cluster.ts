import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { closedPort } from './http';

/**
 * A PostgreSQL cluster and a Redis server of the test's own, on spare loopback ports, so a test may
 * stop, restart and kill them without disturbing other tests or the machine's services. Everything
 * lives in one temporary folder, removed by `destroy()` or, should the test runner die first, by a
 * watchdog process.
 */

const PG_ROOT = '/usr/lib/postgresql';

/** The newest installed PostgreSQL's bin folder (`/usr/lib/postgresql/<version>/bin`). */
function postgresBin(): string {
  const fromEnv = process.env.CHAOS_PG_BIN;
  if (fromEnv) return fromEnv;
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT).filter((name) => existsSync(path.join(PG_ROOT, name, 'bin', 'initdb')))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`no PostgreSQL under ${PG_ROOT} (set CHAOS_PG_BIN)`);
  return path.join(PG_ROOT, newest, 'bin');
}

/** initdb and the server refuse to run as root: as root, they run as the `postgres` user. */
const asRoot = process.getuid?.() === 0;

function pgCommand(bin: string, args: string[]): [string, string[]] {
  const command = path.join(postgresBin(), bin);
  return asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

/** Runs a PostgreSQL program without blocking this process (the clients under test keep running). */
function runPg(bin: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const [command, argv] = pgCommand(bin, args);
  return new Promise((resolve, reject) =>
    execFile(command, argv, { encoding: 'utf8', timeout: timeoutMs }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${bin} ${args.join(' ')}: ${error.message}\n${stderr}`))
        : resolve(stdout),
    ),
  );
}

/** A throwaway PostgreSQL cluster, trust auth, on 127.0.0.1:`port`. */
export class ChaosPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** `postgres://postgres@127.0.0.1:<port>/postgres`, or through another port (a proxy's). */
  url(port = this.port): string {
    return `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** Runs initdb into a new temporary folder and starts the server. */
  static async create(dir: string): Promise<ChaosPostgres> {
    const pg = new ChaosPostgres(dir, await closedPort());
    await runPg('initdb', [
      '-D',
      pg.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await pg.start();
    return pg;
  }

  /** Starts the server and returns once it accepts connections. */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.dir}`,
      // A test database: durability is not what is tested, speed on a busy machine is.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=60',
    ].join(' ');
    await runPg('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      path.join(this.dir, 'postgres.log'),
      '-o',
      options,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /**
   * Stops the server: `fast` (what a maintenance restart or failover does: every session is
   * terminated "due to administrator command") or `immediate` (a crash).
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await runPg('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Stops it if it runs, synchronously (it runs at process exit too); never throws. */
  stopQuietly(): void {
    if (!existsSync(path.join(this.dataDir, 'postmaster.pid'))) return;
    const [command, argv] = pgCommand('pg_ctl', ['-D', this.dataDir, '-m', 'immediate', 'stop']);
    try {
      execFileSync(command, argv, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      // already stopped
    }
  }
}

/** A `redis-server` without persistence on 127.0.0.1:`port`: a restart loses every key. */
export class ChaosRedis {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  url(port = this.port): string {
    return `redis://127.0.0.1:${port}`;
  }

  /** `extraArgs` are more `redis-server` options, e.g. those of a cluster node. */
  static async create(extraArgs: string[] = [], port?: number): Promise<ChaosRedis> {
    const redis = new ChaosRedis(port ?? (await closedPort()), extraArgs);
    await redis.start();
    return redis;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && !this.child.signalCode;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server and resolves once it accepts connections. */
  start(timeoutMs = 20_000): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        ...this.extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const output: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not start in ${timeoutMs} ms:\n${output.join('\n')}`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output.join('\n')}`));
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        output.push(line);
        if (line.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Stops the server (SIGTERM: a clean shutdown, nothing saved) and resolves once it has exited. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  stopQuietly(): void {
    if (this.running) this.child!.kill('SIGKILL');
  }
}

export interface ChaosCluster {
  postgres: ChaosPostgres;
  redis: ChaosRedis;
  /** Stops both servers and removes their folder. */
  destroy(): Promise<void>;
}

/**
 * A detached watchdog that stops both servers and removes their folder once the test process is
 * gone: the clean-up for a runner killed before its afterAll could run (exit handlers registered
 * inside a jest test module never fire). It is itself stopped by a normal clean-up.
 */
function startReaper(dir: string, postgres: ChaosPostgres, redis: ChaosRedis): ChildProcess {
  const [pgCtl, pgArgs] = pgCommand('pg_ctl', ['-D', postgres.dataDir, '-m', 'immediate', 'stop']);
  const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `${[pgCtl, ...pgArgs].map(quote).join(' ')} >/dev/null 2>&1`,
    `redis-cli -p ${redis.port} shutdown nosave >/dev/null 2>&1`,
    `rm -rf ${quote(dir)}`,
  ].join('\n');
  const reaper = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  reaper.unref();
  return reaper;
}

/**
 * Starts a PostgreSQL cluster and a Redis server of their own. `destroy()` (in an afterAll, so
 * also after a failed test) stops them; a watchdog does it if the test process dies first.
 */
export async function startChaosCluster(): Promise<ChaosCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mm-chaos-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  let postgres: ChaosPostgres | undefined;
  let redis: ChaosRedis | undefined;
  const cleanUp = () => {
    postgres?.stopQuietly();
    redis?.stopQuietly();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    [postgres, redis] = await Promise.all([ChaosPostgres.create(dir), ChaosRedis.create()]);
  } catch (error) {
    cleanUp();
    throw error;
  }
  const reaper = startReaper(dir, postgres, redis);
  return {
    postgres,
    redis,
    async destroy() {
      reaper.kill();
      await redis!.stop();
      cleanUp();
    },
  };
}
