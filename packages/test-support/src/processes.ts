import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '../../..');

export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A Redis key and channel prefix of its own, so test files share one Redis without crosstalk. */
export function uniqueRedisPrefix(label: string): string {
  return `mmtest:${label}:${randomBytes(4).toString('hex')}`;
}

export interface RunningProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  /** Every stdout line so far: the pino JSON logs. */
  logs: string[];
  /** What it wrote to stderr so far (crashes, uncaught errors). */
  stderr: string[];
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The node flags `npm start` gives the embedded default (root package.json, `start`). */
export function npmStartNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const flags = /node ((?:--[\w-]+ )*)apps\/embedded\/dist\/main\.js$/.exec(pkg.scripts.start);
  return flags?.[1]?.split(' ').filter(Boolean) ?? [];
}

/**
 * Starts an app's main.ts from source (tsx, `source` export condition) as a real process on a free
 * port, and resolves once it logs the port it listens on. The default wait is long because a cold
 * tsx start beside a parallel test run on two cores has taken over 20 s.
 */
export function startApp(
  app: 'api' | 'gateway' | 'embedded',
  env: Record<string, string>,
  timeoutMs = 60_000,
  nodeArgs: string[] = [],
): Promise<RunningProcess> {
  return startScript(app, path.join(ROOT, 'apps', app, 'src', 'main.ts'), env, timeoutMs, nodeArgs);
}

/** Starts any TypeScript entry that logs `{"msg": "... listening", "port": N}` once it listens. */
export function startScript(
  name: string,
  entry: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
  /** Extra flags for node itself, e.g. `--cpu-prof` (not allowed in NODE_OPTIONS). */
  nodeArgs: string[] = [],
): Promise<RunningProcess> {
  return startNode(
    name,
    [...nodeArgs, '--conditions=source', '--import', 'tsx', entry],
    env,
    timeoutMs,
  );
}

/**
 * Starts node with `args` as they are (a compiled entry such as `apps/embedded/dist/main.js`, as
 * `npm start` runs it), and resolves once it logs the port it listens on.
 */
export function startNode(
  name: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<RunningProcess> {
  const app = name;
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${app} did not start in ${timeoutMs} ms:\n${stderr.join('')}${logs.join('\n')}`),
      );
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `${app} exited with ${code} before listening:\n${stderr.join('')}${logs.join('\n')}`,
        ),
      );
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const port = parsePort(line);
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({
        name: app,
        port,
        url: `http://127.0.0.1:${port}`,
        child,
        logs,
        stderr,
        exited,
        async stop(signal: NodeJS.Signals = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}

function parsePort(line: string): number | undefined {
  try {
    const entry = JSON.parse(line) as { port?: unknown; msg?: unknown };
    return typeof entry.port === 'number' && String(entry.msg).includes('listening')
      ? entry.port
      : undefined;
  } catch {
    return undefined;
  }
}
