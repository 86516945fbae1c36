import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { alertRules } from '../support/monitoring';

/**
 * The container set-up, checked statically: no Docker engine where the tests run. What is checked is
 * what breaks silently: a stage or a path that does not exist, a proxy that drops the WebSocket
 * upgrade, an alert whose runbook is missing.
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

describe.each(['api', 'gateway'])('the %s Dockerfile', (app) => {
  const dockerfile = read(`apps/${app}/Dockerfile`);
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^[A-Z]+ /.test(line));

  it('when built, then it prunes, builds, and runs the compiled app as the node user from a runtime stage', () => {
    const stages = instructions.filter((line) => line.startsWith('FROM '));
    expect(stages.map((line) => line.split(' AS ')[1])).toEqual([
      'base',
      'prune',
      'build',
      'runtime',
    ]);
    expect(dockerfile).toContain(`turbo@2.11.11 prune @mm/${app} --docker`);
    expect(dockerfile).toContain(`turbo run build --filter=@mm/${app}...`);
    expect(dockerfile).toContain('npm prune --omit=dev');
    const runtime = instructions.slice(instructions.findIndex((l) => l.includes(' AS runtime')));
    expect(runtime).toContain('USER node');
    expect(runtime.some((line) => line.startsWith('RUN '))).toBe(false); // nothing built at runtime
    expect(runtime).toContain(`CMD ["node", "apps/${app}/dist/main.js"]`);
    expect(existsSync(path.join(ROOT, `apps/${app}/src/main.ts`))).toBe(true);
  });

  it('when copying the workspaces into the runtime, then each exists and is one the app depends on', () => {
    const pkg = JSON.parse(read(`apps/${app}/package.json`));
    const workspaceDeps = Object.keys(pkg.dependencies).filter((dep) => dep.startsWith('@mm/'));
    const copied = [...dockerfile.matchAll(/\/repo\/(packages\/\w+)\/dist /g)].map((m) => m[1]!);
    for (const dir of copied) expect(existsSync(path.join(ROOT, dir, 'src'))).toBe(true);
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
      ]),
    );
    for (const rule of rules) {
      expect(rule.labels?.severity).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.runbook).toBe(`docs/operations.md#${rule.alert.toLowerCase()}`);
      expect(operations).toContain(`\n### ${rule.alert}\n`);
    }
  });
});
