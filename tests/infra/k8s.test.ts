import { createServer } from 'node:http';
import path from 'node:path';
import { sql } from 'kysely';
import { loadAppConfig } from '@mm/platform';
import { createSocketServer } from '@mm/gateway';
import { openDatabase } from '@mm/db';
import { createTestRole, createTestSchema, type TestSchema } from '@mm/db/testing';
import { get, untilReady } from '@mm/test-support/http';
import { containersOf, kustomize, type Manifest } from '@mm/test-support/kustomize';
import { PgBouncer } from '@mm/test-support/pgbouncer';
import {
  startApp,
  testRedisUrl,
  uniqueRedisPrefix,
  type RunningProcess,
} from '@mm/test-support/processes';

/**
 * The Kubernetes manifests as each overlay renders them (resolved by packages/test-support/src/kustomize.ts),
 * checked for what must hold in a cluster. Probe paths are requested from real api and gateway
 * processes: a probe on a path the app does not serve would keep every pod unready.
 */
const K8S = path.resolve(__dirname, '../../k8s');
const overlays = ['dev', 'prod'] as const;
const rendered = Object.fromEntries(
  overlays.map((name) => [name, kustomize(path.join(K8S, 'overlays', name))]),
) as Record<(typeof overlays)[number], Manifest[]>;

const byKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
const named = (manifests: Manifest[], kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const APPS = { api: 'mystery-match-api', gateway: 'mystery-match-gateway' } as const;
const PGBOUNCER = 'mystery-match-pgbouncer';

/** The `key = value` settings of a pgbouncer.ini (comments and section headers skipped). */
function iniSettings(ini: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const line of ini.split('\n')) {
    const setting = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (setting) settings[setting[1]!] = setting[2]!;
  }
  return settings;
}
const pgbouncerIni = (manifests: Manifest[]): string =>
  named(manifests, 'ConfigMap', PGBOUNCER).data['pgbouncer.ini'];

/** The most pods a Deployment runs: its HPA's maximum (or its replicas) plus a rollout's surge. */
function mostPods(manifests: Manifest[], name: string): number {
  const deployment = named(manifests, 'Deployment', name);
  const hpa = byKind(manifests, 'HorizontalPodAutoscaler').find(
    (h) => h.spec.scaleTargetRef.name === name,
  );
  const count: number = hpa ? hpa.spec.maxReplicas : deployment.spec.replicas;
  const surge = deployment.spec.strategy.rollingUpdate.maxSurge ?? '25%';
  const extra =
    typeof surge === 'string' && surge.endsWith('%')
      ? Math.ceil((count * Number(surge.slice(0, -1))) / 100)
      : Number(surge);
  return count + extra;
}

describe.each(overlays)('the %s overlay', (overlay) => {
  const manifests = rendered[overlay];

  it('when rendered, then api and gateway each have an autoscaling/v2 HPA on memory at 70 %, 3 to 20 pods', () => {
    const hpas = byKind(manifests, 'HorizontalPodAutoscaler');
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).toEqual([APPS.api, APPS.gateway]);
    for (const hpa of hpas) {
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
      named(manifests, 'Deployment', hpa.spec.scaleTargetRef.name);
      expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 20 });
      expect(hpa.spec.metrics).toEqual([
        {
          type: 'Resource',
          resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ]);
    }
  });

  it('when the gateway scales down, then it waits and removes at most one pod at a time', () => {
    const hpa = named(manifests, 'HorizontalPodAutoscaler', APPS.gateway);
    const scaleDown = hpa.spec.behavior.scaleDown;
    expect(scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(600);
    expect(scaleDown.policies.length).toBeGreaterThan(0);
    for (const policy of scaleDown.policies) {
      expect(policy).toMatchObject({ type: 'Pods', value: 1 });
      // Each removed pod drains before the next one may go.
      expect(policy.periodSeconds).toBeGreaterThanOrEqual(60);
    }
  });

  it('when scheduled, then every container has memory requests and limits, and the apps CPU too', () => {
    const containers = manifests.flatMap(containersOf);
    expect(containers.length).toBeGreaterThanOrEqual(3);
    for (const container of containers) {
      expect(container.resources?.requests?.memory).toEqual(expect.any(String));
      expect(container.resources?.limits?.memory).toEqual(expect.any(String));
    }
    for (const name of Object.values(APPS)) {
      const [app] = containersOf(named(manifests, 'Deployment', name));
      expect(app.resources.requests.cpu).toEqual(expect.any(String));
      expect(app.resources.limits.cpu).toEqual(expect.any(String));
    }
  });

  it('when a rollout or an eviction happens, then no app pod is unavailable beyond its budget', () => {
    for (const name of Object.values(APPS)) {
      const deployment = named(manifests, 'Deployment', name);
      expect(deployment.spec.strategy).toMatchObject({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0 },
      });
      // The HPA owns the count: a `replicas` here would reset it on every apply.
      expect(deployment.spec.replicas).toBeUndefined();
      const podLabels = deployment.spec.template.metadata.labels;
      expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
      const pdb = named(manifests, 'PodDisruptionBudget', name);
      expect(pdb.spec.selector.matchLabels).toEqual(podLabels);
      expect(pdb.spec.maxUnavailable ?? 0).toBeLessThanOrEqual(1);
      const service = named(manifests, 'Service', name);
      expect(service.spec.selector).toEqual(podLabels);
      const ports = containersOf(deployment)[0].ports.map((p: { name: string }) => p.name);
      for (const port of service.spec.ports) expect(ports).toContain(port.targetPort);
    }
  });

  it("when a pod reads the ConfigMap (with the Dockerfile's NODE_ENV=production and a secret), then its configuration is accepted", () => {
    const config = named(manifests, 'ConfigMap', 'mystery-match-config');
    const env = {
      DATABASE_URL: 'postgres://mm@postgres:5432/mm',
      REDIS_URL: 'redis://redis:6379',
      JWT_SECRET: 'a-secret-made-outside-git-that-is-long-enough',
      NODE_ENV: 'production',
      ...config.data,
    };
    const loaded = loadAppConfig('scaled', env);
    expect(loaded.http).toMatchObject({ host: '0.0.0.0', trustProxyHops: 1 });
    expect(loaded.auth.devTokens).toBe(overlay === 'dev');
  });

  it('when the gateway is terminated, then the grace period covers preStop, the drain window and closing', () => {
    const config = named(manifests, 'ConfigMap', 'mystery-match-config');
    const drainWindow = Number(config.data.GATEWAY_DRAIN_WINDOW_SECONDS);
    expect(drainWindow).toBeGreaterThan(0);
    for (const name of Object.values(APPS)) {
      const pod = named(manifests, 'Deployment', name).spec.template.spec;
      const preStop = pod.containers[0].lifecycle.preStop.exec.command;
      expect(preStop[0]).toBe('sleep');
      const preStopSeconds = Number(preStop[1]);
      // A gateway gives up on its own drain window + 15 s after SIGTERM (closeOnSignal in its
      // main.ts); an api pod 30 s after, but it closes once its requests in flight are done.
      const needed = preStopSeconds + (name === APPS.gateway ? drainWindow + 15 : 10);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed);
    }
  });

  it('when a client connects, then the Ingress routes /socket.io to the gateway with WebSocket-safe timeouts', () => {
    const io = createSocketServer(createServer());
    const { pingInterval, pingTimeout } = io.engine.opts as {
      pingInterval: number;
      pingTimeout: number;
    };
    void io.close();
    const heartbeatSeconds = (pingInterval + pingTimeout) / 1000;

    const ingresses = byKind(manifests, 'Ingress');
    const routes = ingresses.flatMap((ingress) =>
      ingress.spec.rules.flatMap((rule: any) =>
        rule.http.paths.map((p: any) => ({ ingress, path: p.path, backend: p.backend.service })),
      ),
    );
    const socket = routes.find((route) => route.path.startsWith('/socket.io'));
    expect(socket?.backend.name).toBe(APPS.gateway);
    const annotations = socket!.ingress.metadata.annotations;
    for (const timeout of ['proxy-read-timeout', 'proxy-send-timeout']) {
      expect(Number(annotations[`nginx.ingress.kubernetes.io/${timeout}`])).toBeGreaterThan(
        heartbeatSeconds,
      );
    }
    // Long-polling sessions must come back to the pod that holds them.
    expect(annotations['nginx.ingress.kubernetes.io/affinity']).toBe('cookie');
    expect(routes.find((route) => route.path === '/')?.backend.name).toBe(APPS.api);
    // /metrics is for Prometheus inside the cluster, not for the public host.
    const metrics = routes.find((route) => route.path === '/metrics');
    expect(
      metrics?.ingress.metadata.annotations['nginx.ingress.kubernetes.io/denylist-source-range'],
    ).toBe('0.0.0.0/0,::/0');
    for (const route of routes) {
      const service = named(manifests, 'Service', route.backend.name);
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(
        route.backend.port.name,
      );
    }
  });

  it('when deployed, then migrations run as a Job from the api image with the apps config', () => {
    const job = named(manifests, 'Job', 'mystery-match-migrate');
    const [migrate] = containersOf(job);
    const [api] = containersOf(named(manifests, 'Deployment', APPS.api));
    expect(migrate.image).toBe(api.image);
    // args, never command: command would replace the image's tini entrypoint (signals to node).
    expect(migrate.args).toEqual(['node', 'packages/db/dist/migrate.cli.js']);
    for (const container of [
      migrate,
      api,
      ...containersOf(named(manifests, 'Deployment', APPS.gateway)),
    ]) {
      expect(container.command).toBeUndefined();
    }
    expect(migrate.envFrom).toEqual(api.envFrom);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });
});

describe.each(overlays)('the connection budget of the %s overlay', (overlay) => {
  const manifests = rendered[overlay];
  const settings = iniSettings(pgbouncerIni(manifests));
  const pgbouncer = named(manifests, 'Deployment', PGBOUNCER);

  it('when every app pod holds its whole pool at the HPAs’ maximum plus a rollout’s surge, then one PgBouncer replica accepts them all', () => {
    const poolSize = Number(
      named(manifests, 'ConfigMap', 'mystery-match-config').data.DATABASE_POOL_SIZE,
    );
    expect(poolSize).toBeGreaterThan(0);
    // + 1: the migration Job's one connection (migrate.cli.ts).
    const clients =
      Object.values(APPS).reduce((sum, name) => sum + mostPods(manifests, name) * poolSize, 0) + 1;
    // The Service spreads connections, not evenly: each replica must take them all.
    expect(clients).toBeLessThanOrEqual(Number(settings.max_client_conn));
    if (overlay === 'prod') expect(clients).toBe((25 + 25) * 20 + 1); // k8s/README.md
  });

  it('when PgBouncer runs at its count plus a rollout’s surge, then its server connections fit PostgreSQL’s max_connections less the reserve', () => {
    expect(settings.pool_mode).toBe('transaction');
    const perReplica = Math.min(
      Number(settings.default_pool_size) + Number(settings.reserve_pool_size ?? 0),
      Number(settings.max_db_connections),
    );
    expect(perReplica).toBeGreaterThan(0);
    // Never autoscaled: its count is part of the budget.
    expect(
      byKind(manifests, 'HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name),
    ).not.toContain(PGBOUNCER);
    const annotations = pgbouncer.metadata.annotations;
    const maxConnections = Number(annotations['mystery-match/postgres-max-connections']);
    const reserved = Number(annotations['mystery-match/postgres-reserved-connections']);
    expect(reserved).toBeGreaterThanOrEqual(3); // PostgreSQL's superuser_reserved_connections
    expect(mostPods(manifests, PGBOUNCER) * perReplica).toBeLessThanOrEqual(
      maxConnections - reserved,
    );
    const postgres = manifests.find(
      (m) => m.kind === 'StatefulSet' && m.metadata.name === 'postgres',
    );
    if (postgres) {
      // The overlay's own PostgreSQL runs with the max_connections the budget assumes.
      expect(containersOf(postgres)[0].args.join(' ')).toContain(
        `max_connections=${maxConnections}`,
      );
    }
  });

  it('when the apps reach PostgreSQL, then it is through the PgBouncer Service, which selects its pods', () => {
    const service = named(manifests, 'Service', PGBOUNCER);
    const podLabels = pgbouncer.spec.template.metadata.labels;
    expect(service.spec.selector).toEqual(podLabels);
    expect(named(manifests, 'PodDisruptionBudget', PGBOUNCER).spec.selector.matchLabels).toEqual(
      podLabels,
    );
    const [container] = containersOf(pgbouncer);
    expect(container.ports.map((p: { name: string }) => p.name)).toContain(
      service.spec.ports[0].targetPort,
    );
    const mounted = pgbouncer.spec.template.spec.volumes;
    expect(mounted).toEqual(
      expect.arrayContaining([
        { name: 'config', configMap: { name: PGBOUNCER } },
        { name: 'secret', secret: { secretName: PGBOUNCER } },
      ]),
    );
    expect(container.command[1]).toBe('/etc/pgbouncer/config/pgbouncer.ini');
    const secret = manifests.find(
      (m) => m.kind === 'Secret' && m.metadata.name === 'mystery-match-secrets',
    );
    // prod's Secret is made outside git (docs/operations.md says to name the Service there).
    if (secret) expect(new URL(secret.stringData.DATABASE_URL).hostname).toBe(PGBOUNCER);
  });
});

describe('the manifests’ pgbouncer.ini on a real PgBouncer', () => {
  let test: TestSchema;
  let bouncer: PgBouncer;

  beforeAll(async () => {
    test = await createTestRole('k8s_pgbouncer');
    // The prod overlay's config as it is, but for the folder, the address and the port.
    const ini = pgbouncerIni(rendered.prod);
    bouncer = await PgBouncer.run((port, dir) => ({
      'pgbouncer.ini': ini
        .replaceAll('/etc/pgbouncer/secret/', `${dir}/`)
        .replace(/^listen_addr = .*$/m, 'listen_addr = 127.0.0.1')
        .replace(/^listen_port = .*$/m, `listen_port = ${port}`),
      'databases.ini': `[databases]\nmm = host=127.0.0.1 port=5432 dbname=${new URL(test.url).pathname.slice(1)}\n`,
      'userlist.txt': `"${test.role}" "${test.password}"\n`,
    }));
  }, 30_000);

  afterAll(async () => {
    await bouncer?.stop();
    await test?.drop();
  });

  const through = (password: string) => {
    const url = new URL(bouncer.url(test));
    url.password = password;
    url.pathname = '/mm';
    return url.toString();
  };

  it('when an app logs in with the role’s password, then its queries run in the role’s schema; with another password it is refused', async () => {
    const app = await openDatabase({ kind: 'postgres', url: through(test.password), poolSize: 2 });
    try {
      const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(
        app.db,
      );
      expect(rows[0]!.schema).toBe(test.schema);
    } finally {
      await app.close();
    }
    const intruder = await openDatabase({ kind: 'postgres', url: through('wrong'), poolSize: 1 });
    try {
      await expect(sql`select 1`.execute(intruder.db)).rejects.toThrow(/authentication failed/);
    } finally {
      await intruder.close();
    }
  });
});

describe('overlay differences', () => {
  it('when dev is rendered, then it brings Postgres and Redis and Secrets pointing at them (Postgres through PgBouncer)', () => {
    const dev = rendered.dev;
    named(dev, 'Service', 'postgres');
    named(dev, 'Service', 'redis');
    const secret = named(dev, 'Secret', 'mystery-match-secrets');
    expect(new URL(secret.stringData.DATABASE_URL).hostname).toBe(PGBOUNCER);
    const pgbouncer = named(dev, 'Secret', PGBOUNCER).stringData['databases.ini'];
    expect(pgbouncer).toMatch(/^mm = host=postgres port=5432 dbname=mm$/m);
    expect(new URL(secret.stringData.REDIS_URL).hostname).toBe('redis');
    expect(secret.stringData.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(
      dev.every((m) => m.kind === 'Namespace' || m.metadata.namespace === 'mystery-match-dev'),
    ).toBe(true);
  });

  it('when prod is rendered, then images are pinned, the host has TLS, and no Secret overwrites the real one', () => {
    const prod = rendered.prod;
    expect(byKind(prod, 'Secret')).toEqual([]); // neither the apps' nor PgBouncer's
    for (const name of Object.values(APPS)) {
      const [container] = containersOf(named(prod, 'Deployment', name));
      expect(container.image).toMatch(
        /^registry\.example\.com\/mystery-match\/(api|gateway):\d+\.\d+\.\d+$/,
      );
    }
    for (const ingress of byKind(prod, 'Ingress')) {
      expect(ingress.spec.rules[0].host).toBe('chat.example.com');
      expect(ingress.spec.tls[0].hosts).toEqual(['chat.example.com']);
    }
    const [gateway] = containersOf(named(prod, 'Deployment', APPS.gateway));
    expect(gateway.resources.requests.memory).toBe('1Gi');
    expect(gateway.name).toBe('gateway'); // merged into the base container, not added beside it
    expect(containersOf(named(prod, 'Deployment', APPS.gateway))).toHaveLength(1);
  });
});

describe('probes and scrape paths against the real apps', () => {
  let schema: TestSchema;
  const apps: Partial<Record<keyof typeof APPS, RunningProcess>> = {};

  beforeAll(async () => {
    schema = await createTestSchema('k8s_probes');
    const env = {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_SIZE: '2',
      REDIS_URL: testRedisUrl,
      REDIS_PREFIX: uniqueRedisPrefix('k8s'),
      JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256',
    };
    [apps.api, apps.gateway] = await Promise.all([startApp('api', env), startApp('gateway', env)]);
    // A pod listens before its first PostgreSQL and Redis round trips are answered; the kubelet
    // sends it traffic only once readiness passes, so the probes below start from there too.
    for (const app of Object.values(apps)) await untilReady(app!.url, 30_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app?.stop()));
    await schema?.drop();
  });

  it.each(overlays)(
    'when the %s overlay probes and scrapes the pods, then every path answers 200 on the app it targets',
    async (overlay) => {
      for (const [app, name] of Object.entries(APPS) as [keyof typeof APPS, string][]) {
        const deployment = named(rendered[overlay], 'Deployment', name);
        const [container] = containersOf(deployment);
        const probes = ['startupProbe', 'livenessProbe', 'readinessProbe'].map((p) => container[p]);
        expect(probes.every(Boolean)).toBe(true);
        const paths = [
          ...probes.map((probe) => probe.httpGet.path as string),
          deployment.spec.template.metadata.annotations['prometheus.io/path'] as string,
        ];
        expect(paths).toEqual(
          expect.arrayContaining(['/health/live', '/health/ready', '/metrics']),
        );
        const portNames = container.ports.map((p: { name: string }) => p.name);
        for (const probe of probes) expect(portNames).toContain(probe.httpGet.port);
        for (const probePath of paths) {
          const answer = await get(`${apps[app]!.url}${probePath}`);
          expect({ app, probePath, status: answer.status }).toEqual({
            app,
            probePath,
            status: 200,
          });
        }
      }
    },
  );
});
