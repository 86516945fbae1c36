import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAll } from './chat-load';
import { round } from './stats';

/**
 * What the child serves: `stock`, Socket.IO as it comes (the gateway's frame limit and timers, none
 * of its trims); `bare`, the gateway's Socket.IO server with no handlers; `gateway`, the real
 * gateway with its database and Redis.
 */
export interface HeapServer {
  kind: 'stock' | 'bare' | 'gateway';
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
    const [base, grown] = [fileBefore, fileAfter].map(sizesOf) as [Sizes, Sizes];
    [fileBefore, fileAfter].forEach((file) => rmSync(file, { force: true }));
    return {
      sockets,
      rss_per_socket_kb: round((after.rss - before.rss) / sockets / 1024, 2),
      heap_after_gc_per_socket_kb: round((after.heapUsed - before.heapUsed) / sockets / 1024, 2),
      heap_bytes_per_socket_by_constructor: growthPerSocket(
        base.byConstructor,
        grown.byConstructor,
        sockets,
        15,
      ),
      heap_bytes_per_socket_by_holder: growthPerSocket(base.byHolder, grown.byHolder, sockets, 25),
    };
  } finally {
    child.kill();
  }
}

function reply<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once('message', (message) => resolve(message as T)));
}

interface HeapSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Objects whose constructor says too little to know whose they are: labelled by their holder. */
const GENERIC = new Set(['Object', 'Array', 'Map', 'Set', 'WeakMap', 'system / Context']);
/** Hops followed up the holders before a label gives up on finding a named one. */
const MAX_HOPS = 4;
/** The edges that say who owns a node, best first; weak edges own nothing. */
const EDGE_RANK: Record<string, number> = { property: 0, element: 0, context: 0, internal: 1 };

/**
 * Self size per constructor (or node type) in a heap snapshot, and per holder: each node is
 * labelled by its name and the chain of its first owners up to a named object (`(array) <
 * table of Map < local of PresenceService`), so arrays and strings say whose they are.
 */
function sizesOf(file: string): {
  byConstructor: Map<string, number>;
  byHolder: Map<string, number>;
} {
  const heap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot;
  const { node_fields: fields, node_types, edge_fields, edge_types } = heap.snapshot.meta;
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map(
    (f) => fields.indexOf(f),
  ) as [number, number, number, number];
  const [edgeTypeAt, edgeNameAt, toAt] = ['type', 'name_or_index', 'to_node'].map((f) =>
    edge_fields.indexOf(f),
  ) as [number, number, number];
  const types = node_types[0];
  const edgeTypes = edge_types[0];
  const nodeCount = heap.nodes.length / fields.length;
  const nameOf = (node: number) => {
    const type = types[heap.nodes[node * fields.length + typeAt]!]!;
    return type === 'object'
      ? heap.strings[heap.nodes[node * fields.length + nameAt]!]!
      : `(${type})`;
  };
  // Each node's first owner (by the best edge rank), and the edge it holds it by.
  const owner = new Int32Array(nodeCount).fill(-1);
  const ownerEdge = new Int32Array(nodeCount);
  const ownerRank = new Uint8Array(nodeCount).fill(255);
  for (let node = 0, edge = 0; node < nodeCount; node++) {
    const edges = heap.nodes[node * fields.length + edgeCountAt]!;
    for (let i = 0; i < edges; i++, edge += edge_fields.length) {
      const rank = EDGE_RANK[edgeTypes[heap.edges[edge + edgeTypeAt]!]!];
      if (rank === undefined) continue;
      const to = heap.edges[edge + toAt]! / fields.length;
      if (rank < ownerRank[to]!) {
        owner[to] = node;
        ownerEdge[to] = edge;
        ownerRank[to] = rank;
      }
    }
  }
  const edgeName = (edge: number) => {
    const type = edgeTypes[heap.edges[edge + edgeTypeAt]!];
    return type === 'element' ? '[]' : heap.strings[heap.edges[edge + edgeNameAt]!]!;
  };
  const labelOf = (node: number) => {
    let label = nameOf(node);
    for (let at = node, hop = 0; hop < MAX_HOPS && owner[at]! >= 0; hop++) {
      const holder = owner[at]!;
      const holderName = nameOf(holder);
      label += ` < ${edgeName(ownerEdge[at]!)} of ${holderName}`;
      if (!holderName.startsWith('(') && !GENERIC.has(holderName)) break;
      at = holder;
    }
    return label;
  };
  const byConstructor = new Map<string, number>();
  const byHolder = new Map<string, number>();
  for (let node = 0; node < nodeCount; node++) {
    const size = heap.nodes[node * fields.length + sizeAt]!;
    if (size === 0) continue;
    const name = nameOf(node);
    byConstructor.set(name, (byConstructor.get(name) ?? 0) + size);
    const label = labelOf(node);
    byHolder.set(label, (byHolder.get(label) ?? 0) + size);
  }
  return { byConstructor, byHolder };
}

type Sizes = ReturnType<typeof sizesOf>;

/** What the sockets added to the heap, per socket: the `top` largest entries. */
function growthPerSocket(
  before: Map<string, number>,
  after: Map<string, number>,
  sockets: number,
  top: number,
) {
  const grown = [...after].map(
    ([name, bytes]) => [name, (bytes - (before.get(name) ?? 0)) / sockets] as const,
  );
  return Object.fromEntries(
    grown
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, bytes]) => [name, Math.round(bytes)]),
  );
}
