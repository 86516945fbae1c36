import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAll } from './chat-load';
import { round } from './stats';

/** What the child serves: Socket.IO alone, or the real gateway with its database and Redis. */
export interface HeapServer {
  kind: 'bare' | 'gateway';
  env?: Record<string, string>;
  /** The handshake `auth` of the i-th client. */
  auth?: (i: number) => Record<string, unknown>;
}

/** Sockets connected and closed before the baseline is read. */
const WARM_UP_SOCKETS = 200;

/**
 * Where an idle socket's memory goes: connects `sockets` clients to a Socket.IO server in a child
 * process, then reads the retained heap per socket after a full GC, by constructor, from a heap
 * snapshot. `bare` shows the floor Socket.IO over `ws` sets before any code of ours runs;
 * `gateway` what an authenticated socket costs in the real gateway.
 */
export async function socketHeapProfile(sockets: number, server: HeapServer = { kind: 'bare' }) {
  const child = fork(path.join(__dirname, 'socket-heap-server.ts'), [], {
    execArgv: ['--expose-gc', '--conditions=source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...server.env, HEAP_SERVER: server.kind },
  });
  try {
    const { port } = await reply<{ port: number }>(child);
    const ask = (request: object) => {
      child.send(request);
      return reply<{ rss: number; heapUsed: number }>(child);
    };
    const participant = (userId: number) => ({
      userId,
      matchId: 0,
      gatewayUrl: `http://127.0.0.1:${port}`,
      auth: server.auth?.(userId) ?? {},
    });
    // A warm-up round first, disconnected before the baseline: the code the first handshakes
    // compile (V8's code space) is the server's once, not each socket's.
    const warmUp = await connectAll(
      Array.from({ length: WARM_UP_SOCKETS }, (_, i) => participant(sockets + i + 1)),
      100,
    );
    warmUp.forEach(({ socket }) => socket.disconnect());
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    // The first snapshot grows the process; RSS is read after it so it counts the sockets only.
    const fileBefore = path.join(os.tmpdir(), `mm-socket-heap-${process.pid}-0.heapsnapshot`);
    await ask({ kind: 'snapshot', file: fileBefore });
    const before = await ask({ kind: 'memory' });
    const participants = Array.from({ length: sockets }, (_, i) => participant(i + 1));
    // Few at a time: on a busy machine a larger burst outwaits the client's connect timeout.
    const connected = await connectAll(participants, 100);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const after = await ask({ kind: 'memory' });
    const fileAfter = path.join(os.tmpdir(), `mm-socket-heap-${process.pid}-1.heapsnapshot`);
    await ask({ kind: 'snapshot', file: fileAfter });
    connected.forEach(({ socket }) => socket.disconnect());
    const grown = heapGrowthByConstructor(fileBefore, fileAfter, sockets);
    [fileBefore, fileAfter].forEach((file) => rmSync(file, { force: true }));
    return {
      sockets,
      rss_per_socket_kb: round((after.rss - before.rss) / sockets / 1024, 2),
      heap_after_gc_per_socket_kb: round((after.heapUsed - before.heapUsed) / sockets / 1024, 2),
      heap_bytes_per_socket_by_constructor: grown,
    };
  } finally {
    child.kill();
  }
}

function reply<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once('message', (message) => resolve(message as T)));
}

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size per constructor (or node type) in a heap snapshot. */
function sizeByConstructor(file: string): Map<string, number> {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const types = heap.snapshot.meta.node_types[0];
  const totals = new Map<string, number>();
  for (let i = 0; i < heap.nodes.length; i += fields.length) {
    const type = types[heap.nodes[i + typeAt!]!]!;
    const name = type === 'object' ? heap.strings[heap.nodes[i + nameAt!]!]! : `(${type})`;
    totals.set(name, (totals.get(name) ?? 0) + heap.nodes[i + sizeAt!]!);
  }
  return totals;
}

/** What the sockets added to the heap, per socket, by constructor: the 15 largest. */
function heapGrowthByConstructor(before: string, after: string, sockets: number) {
  const base = sizeByConstructor(before);
  const grown = [...sizeByConstructor(after)].map(
    ([name, bytes]) => [name, (bytes - (base.get(name) ?? 0)) / sockets] as const,
  );
  return Object.fromEntries(
    grown
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, bytes]) => [name, Math.round(bytes)]),
  );
}
