import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ChaosRedis } from './chaos-cluster';
import { closedPort, eventually } from './http';

const run = promisify(execFile);

/**
 * A real Redis Cluster of `masters` masters (no replicas) from the `redis-server` binary, on
 * loopback ports, its nodes' files in a temporary folder: what the scaled system's tests run
 * against to prove every Redis use works on a cluster. `url` is the REDIS_URL to give the apps
 * (with REDIS_CLUSTER=true): every node, comma-separated.
 */
export class TestRedisCluster {
  private constructor(
    private readonly nodes: ChaosRedis[],
    private readonly dir: string,
  ) {}

  get url(): string {
    return this.nodes.map((node) => node.url()).join(',');
  }

  /** The environment of an app that uses this cluster. */
  get env(): Record<string, string> {
    return { REDIS_URL: this.url, REDIS_CLUSTER: 'true' };
  }

  static async start(masters = 3): Promise<TestRedisCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'mm-redis-cluster-'));
    const nodes: ChaosRedis[] = [];
    try {
      // Each node listens on two ports: clients and the cluster bus (a free port of its own, not
      // port + 10000, which may lie past 65535). Drawn up front, so no two are the same.
      const ports = new Set<number>();
      while (ports.size < 2 * masters) ports.add(await closedPort());
      const [clientPorts, busPorts] = [[...ports].slice(0, masters), [...ports].slice(masters)];
      for (let i = 0; i < masters; i++) {
        const busPort = busPorts[i]!;
        nodes.push(
          await ChaosRedis.create(
            [
              '--cluster-enabled',
              'yes',
              '--cluster-port',
              String(busPort),
              '--cluster-config-file',
              `nodes-${i}.conf`,
              '--dir',
              dir,
            ],
            clientPorts[i],
          ),
        );
      }
      const cluster = new TestRedisCluster(nodes, dir);
      await run('redis-cli', [
        '--cluster',
        'create',
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      // Every node must know every slot's owner before a client asks it.
      await eventually(
        () => Promise.all(nodes.map((node) => clusterState(node.port))),
        (states) => states.every((state) => state === 'ok'),
        30_000,
      );
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function clusterState(port: number): Promise<string | undefined> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info']);
  return /cluster_state:(\w+)/.exec(stdout)?.[1];
}

/** The Redis deployments the cross-pod system tests run against: one node and a cluster. */
export const REDIS_KINDS = ['standalone', 'cluster'] as const;
export type RedisKind = (typeof REDIS_KINDS)[number];

/**
 * The apps' Redis environment for `kind`: nothing to add for the shared single node (the
 * environment's REDIS_URL), a three-master cluster of the test's own for `cluster`.
 */
export async function redisFor(
  kind: RedisKind,
): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  if (kind === 'standalone') return { env: {}, stop: async () => undefined };
  const cluster = await TestRedisCluster.start();
  return { env: cluster.env, stop: () => cluster.stop() };
}
