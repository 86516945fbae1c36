// The bench's side of the load generator: compiles load-generator.ts to plain JavaScript with
// esbuild (the one tsx runs on), forks it with the node flags of the systems it measures, and
// asks it for one thing at a time over IPC.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Request, Reply, SocketSpec, StepResult } from './load-generator';

export type { SocketSpec, StepResult };

/** Where `npm run bench` writes the compiled generator (dist/ is ignored by git). */
export const generatorScript = path.join(__dirname, 'dist', 'load-generator.js');

/**
 * Compiles the generator: one CommonJS file of our code, socket.io-client left to node_modules
 * (it ships compiled). Nothing of tsx runs in the generator's process. esbuild's command line,
 * not its JavaScript API, which refuses to run inside jest (the tests start the generator too).
 */
export function buildLoadGenerator(): string {
  const esbuild = path.join(
    path.dirname(require.resolve('esbuild/package.json')),
    'bin',
    'esbuild',
  );
  execFileSync(esbuild, [
    path.join(__dirname, 'load-generator.ts'),
    `--outfile=${generatorScript}`,
    '--bundle',
    '--packages=external',
    '--platform=node',
    '--format=cjs',
    '--target=node20',
    '--log-level=warning',
  ]);
  return generatorScript;
}

export interface LoadGenerator {
  child: ChildProcess;
  connectPairs(group: string, pairs: [SocketSpec, SocketSpec][]): Promise<number>;
  connectIdle(group: string, sockets: SocketSpec[]): Promise<number>;
  runStep(group: string, rate: number, seconds: number, runId: string): Promise<StepResult>;
  disconnect(group: string): Promise<void>;
  stop(): void;
}

/** Builds and starts the generator, resolving once it is ready for requests. */
export async function startLoadGenerator(nodeArgs: string[]): Promise<LoadGenerator> {
  const child = fork(buildLoadGenerator(), [], {
    execArgv: nodeArgs,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the load generator exited with ${code}`))),
  );
  exited.catch(() => undefined); // only a pending request reports it
  const next = () =>
    Promise.race([
      new Promise<Reply>((resolve) => child.once('message', (reply) => resolve(reply as Reply))),
      exited,
    ]).then((reply) => {
      if ('kind' in reply && reply.kind === 'error') throw new Error(reply.message);
      return reply;
    });
  const ask = (request: Request) => {
    const reply = next();
    child.send(request);
    return reply;
  };
  await next();
  const connected = async (request: Request) => {
    const reply = await ask(request);
    return 'kind' in reply && reply.kind === 'connected' ? reply.sockets : 0;
  };
  return {
    child,
    connectPairs: (group, pairs) => connected({ kind: 'connect', group, pairs, concurrency: 200 }),
    connectIdle: (group, sockets) =>
      connected({ kind: 'connect', group, sockets, concurrency: 500 }),
    runStep: async (group, rate, seconds, runId) =>
      (await ask({ kind: 'run', group, rate, seconds, runId })) as StepResult,
    disconnect: async (group) => void (await ask({ kind: 'disconnect', group })),
    // Closing the channel lets it exit by itself, writing its CPU profile if it was asked for one.
    stop: () => (child.connected ? child.disconnect() : void child.kill()),
  };
}
