// `npm run bench:profile -- <dir>`: where the CPU of each process went, from the V8 CPU profiles
// `BENCH_CPU_PROF=<dir> npm run bench` wrote. Self time is grouped by who owns the code (an npm
// package, our workspaces, the garbage collector), and time in Node's own code or a native call
// is charged to the package that called it: a socket write is a syscall inside `net`, and which
// client made it (ws, pg, ioredis) is the question. Only what no package called (timers, the
// module loader) stays `node internals`. Prints one table per profile, busy time only (idle left out).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)/;
const WORKSPACE = /\/(apps|packages)\/([^/]+)\//;

/** Who owns a frame's code; undefined for Node's own code and natives (charged to the caller). */
function ownerOf({ functionName, url }: ProfileNode['callFrame']): string | undefined {
  if (!url) return functionName.startsWith('(') ? functionName : undefined;
  const pkg = PACKAGE.exec(url)?.[1];
  if (pkg) return pkg;
  const workspace = WORKSPACE.exec(url);
  if (workspace) return `ours: ${workspace[1]}/${workspace[2]}`;
  if (url.startsWith('node:')) return undefined;
  return path.basename(url);
}

function summarize(profile: CpuProfile): { busyMs: number; shares: [string, number][] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parentOf.set(child, node.id);

  const owner = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const found = ownerOf(byId.get(at)!.callFrame);
      if (found) return found;
    }
    return 'node internals';
  };
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = owner(id);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  totals.delete('(idle)');
  const busy = [...totals.values()].reduce((a, b) => a + b, 0);
  const shares = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([key, micros]): [string, number] => [key, micros / busy]);
  return { busyMs: busy / 1000, shares };
}

function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: npm run bench:profile -- <dir of .cpuprofile files>');
  const files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
  for (const file of files) {
    const { busyMs, shares } = summarize(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
    // Worker threads (tsx's loader) write tiny profiles: skip what hardly ran.
    if (busyMs < 1000) continue;
    console.log(`\n${file}: ${(busyMs / 1000).toFixed(1)} s busy`);
    for (const [key, share] of shares.filter(([, s]) => s >= 0.01)) {
      console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${key}`);
    }
  }
}

main();
