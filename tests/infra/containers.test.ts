import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { alertRules } from '@mm/test-support/monitoring';

/**
 * The container set-up, checked statically: no Docker engine where the tests run. What is checked is
 * what breaks silently: a stage or a path that does not exist, a proxy that drops the WebSocket
 * upgrade, an alert whose runbook is missing.
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** One build stage of the Dockerfile: its name, what it starts from, its instructions. */
interface Stage {
  name: string;
  from: string;
  instructions: string[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function dockerStages(dockerfile: string): { globalArgs: string[]; stages: Stage[] } {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^[A-Z]+ /.test(line));
  const firstFrom = instructions.findIndex((line) => line.startsWith('FROM '));
  const stages: Stage[] = [];
  for (const line of instructions.slice(firstFrom)) {
    const from = /^FROM (\S+) AS (\S+)$/.exec(line);
    if (from) stages.push({ from: from[1]!, name: from[2]!, instructions: [] });
    else stages.at(-1)!.instructions.push(line);
  }
  return { globalArgs: instructions.slice(0, firstFrom), stages };
}

describe('the Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const { globalArgs, stages } = dockerStages(dockerfile);
  const stage = (name: string) => stages.find((s) => s.name === name)!;

  it('when read, then APP (default api) picks the image, and every stage that uses APP declares it', () => {
    expect(stages.map((s) => s.name)).toEqual([
      'base',
      'prune',
      'build',
      'tini',
      'runtime',
      'runtime-api',
      'runtime-gateway',
      'image',
    ]);
    expect(globalArgs).toContain('ARG APP=api');
    // Inside a stage a global ARG is empty unless declared again: `prune @mm/` would build nothing.
    for (const { name, instructions } of stages) {
      if (instructions.some((line) => line.includes('${APP}'))) {
        expect({ name, declares: instructions.includes('ARG APP') }).toEqual({
          name,
          declares: true,
        });
      }
    }
    expect(stage('image').from).toBe('runtime-${APP}'); // the last stage: what a plain build yields
    expect(stages.at(-1)!.name).toBe('image');
  });

  describe.each(['api', 'gateway'])('built with APP=%s', (app) => {
    const expand = (line: string) => line.replaceAll('${APP}', app);
    /** The stages the final image is made of, from the last back to the first `FROM`. */
    const chain: Stage[] = [];
    for (let s: Stage | undefined = stage('image'); s; s = stage(expand(s.from))) chain.unshift(s);
    const runtime = chain.flatMap((s) => s.instructions.map(expand));
    const all = stages.flatMap((s) => s.instructions.map(expand)).join('\n');

    it('when built, then it prunes, builds, and runs the compiled app as the node user from a runtime stage', () => {
      expect(chain.map((s) => s.name)).toEqual(['runtime', `runtime-${app}`, 'image']);
      expect(stage('runtime').from).toBe('${NODE_IMAGE}');
      expect(all).toContain(`turbo@2.11.11 prune @mm/${app} --docker`);
      expect(all).toContain(`turbo run build --filter=@mm/${app}...`);
      expect(all).toContain('npm prune --omit=dev');
      expect(runtime).toContain('USER node');
      expect(runtime.some((line) => line.startsWith('RUN '))).toBe(false); // nothing built at runtime
      expect(runtime.filter((line) => line.startsWith('CMD '))).toEqual([
        // Single-threaded GC: its helper threads cost more than they save on a pod's CPU share.
        `CMD ["node", "--single-threaded-gc", "apps/${app}/dist/main.js"]`,
      ]);
      expect(runtime.some((line) => line.startsWith('HEALTHCHECK '))).toBe(true);
      expect(existsSync(path.join(ROOT, `apps/${app}/src/main.ts`))).toBe(true);
    });

    it('when stopped, then SIGTERM reaches node: tini is PID 1 and nothing runs through a shell', () => {
      expect(runtime.filter((line) => line.startsWith('ENTRYPOINT '))).toEqual([
        'ENTRYPOINT ["/usr/bin/tini", "--"]',
      ]);
      expect(runtime).toContain('COPY --from=tini /usr/bin/tini /usr/bin/tini');
      expect(stage('tini').instructions.join(' ')).toMatch(/apt-get install .*\btini\b/);
      // The exec form: a shell-form CMD would make `sh -c` the process tini signals.
      expect(runtime.find((line) => line.startsWith('CMD '))).toMatch(/^CMD \[/);
    });

    it('when copying the workspaces into the runtime, then each exists and is one the app depends on', () => {
      const pkg = JSON.parse(read(`apps/${app}/package.json`));
      const workspaceDeps = Object.keys(pkg.dependencies).filter((dep) => dep.startsWith('@mm/'));
      const copies = runtime.filter((line) => line.startsWith('COPY --from=build '));
      const copied = copies.flatMap(
        (line) => /\/repo\/(packages\/\w+)\/dist /.exec(line)?.[1] ?? [],
      );
      for (const dir of copied) expect(existsSync(path.join(ROOT, dir, 'src'))).toBe(true);
      expect(copies).toContain(`COPY --from=build /repo/apps/${app}/dist apps/${app}/dist`);
      // Every workspace the app needs at run time, and their own workspace dependencies.
      const needed = new Set<string>();
      const visit = (name: string) => {
        const dir = `packages/${name.replace('@mm/', '')}`;
        if (needed.has(dir)) return;
        needed.add(dir);
        const deps = JSON.parse(read(`${dir}/package.json`)).dependencies ?? {};
        Object.keys(deps)
          .filter((d) => d.startsWith('@mm/'))
          .forEach(visit);
      };
      workspaceDeps.forEach(visit);
      expect(copied.sort()).toEqual([...needed].sort());
    });
  });

  it('when the old per-app Dockerfiles are looked for, then they are gone (one recipe to maintain)', () => {
    expect(existsSync(path.join(ROOT, 'apps/api/Dockerfile'))).toBe(false);
    expect(existsSync(path.join(ROOT, 'apps/gateway/Dockerfile'))).toBe(false);
  });
});

describe('docker compose and nginx', () => {
  const compose = parse(read('infra/docker-compose.yml'), { merge: true });
  const nginx = read('infra/nginx/nginx.conf');

  it('when started, then Postgres, Redis, a migration, 2 api, 2 gateway and nginx run, apps after the migration', () => {
    const services = compose.services;
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'redis',
        'migrate',
        'api-1',
        'api-2',
        'gateway-1',
        'gateway-2',
        'nginx',
      ]),
    );
    expect(services.migrate.command).toEqual(['node', 'packages/db/dist/migrate.cli.js']);
    for (const name of ['api-1', 'api-2', 'gateway-1', 'gateway-2']) {
      expect(services[name].depends_on.migrate).toEqual({
        condition: 'service_completed_successfully',
      });
      expect(services[name].environment.REDIS_URL).toBe('redis://redis:6379');
    }
    // Each app image is the one Dockerfile built with its APP; the migration runs from the api image.
    for (const name of ['migrate', 'api-1', 'api-2', 'gateway-1', 'gateway-2']) {
      const app = name === 'migrate' ? 'api' : name.replace(/-\d$/, '');
      expect(services[name].image).toBe(`mystery-match/${app}:\${TAG:-local}`);
      expect(services[name].build).toEqual({
        context: '..',
        dockerfile: 'Dockerfile',
        args: { APP: app },
      });
      expect(existsSync(path.join(ROOT, 'infra', services[name].build.context, 'Dockerfile'))).toBe(
        true,
      );
    }
    const drain = Number(services['gateway-1'].environment.GATEWAY_DRAIN_WINDOW_SECONDS);
    expect(parseInt(services['gateway-1'].stop_grace_period, 10)).toBeGreaterThanOrEqual(
      drain + 10,
    );
  });

  it('when a client opens a socket through nginx, then the upgrade is passed to the gateways with long timeouts', () => {
    const socketBlock = /location \/socket\.io\/ \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    expect(socketBlock).toContain('proxy_pass http://gateway;');
    expect(socketBlock).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(socketBlock).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    for (const timeout of ['proxy_read_timeout', 'proxy_send_timeout']) {
      const seconds = Number(new RegExp(`${timeout} (\\d+)s;`).exec(socketBlock)?.[1]);
      expect(seconds).toBeGreaterThan(45); // ping interval + ping timeout
    }
    const gatewayUpstream = /upstream gateway \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    expect(gatewayUpstream).toContain('ip_hash;');
    expect(gatewayUpstream).toContain('server gateway-1:3000;');
    expect(gatewayUpstream).toContain('server gateway-2:3000;');
    expect(nginx).toMatch(/location \/ \{[^}]*proxy_pass http:\/\/api;/);
  });
});

describe('alert rules', () => {
  const operations = read('docs/operations.md');

  it('when an alert fires, then it has a severity and a runbook section that exists', () => {
    const rules = alertRules();
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'MysteryMatchMemoryHigh',
        'MysteryMatchSlowQueries',
        'MysteryMatchEventLoopLag',
        'MysteryMatchHttpErrorRate',
        'MysteryMatchRedisAdapterErrors',
        'MysteryMatchSlowAcks',
        'MysteryMatchPushQueueBehind',
      ]),
    );
    for (const rule of rules) {
      expect(rule.labels?.severity).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.runbook).toBe(`docs/operations.md#${rule.alert.toLowerCase()}`);
      expect(operations).toContain(`\n### ${rule.alert}\n`);
    }
  });
});
