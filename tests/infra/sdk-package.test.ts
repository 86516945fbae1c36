import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { MessageView } from '@mm/contract';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/**
 * The SDK as another team gets it: `npm pack` of @mm/contract and @mm/client, installed from the
 * tarballs into an empty project outside the workspace (socket.io-client and zod come from the
 * registry), then used from that project with `require` and with `import` to chat against a
 * running embedded server, and type-checked with the packed declarations.
 */
const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(__dirname, 'sdk-consumer');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');
const exec = promisify(execFile);

// npm's own variables from the `npm test` around jest (the workspace's prefix, its config) must
// not steer the install in the other project.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
);
const run = (cmd: string, args: string[], cwd: string) =>
  exec(cmd, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });

describe('the published SDK (packed tarballs in a project of their own)', () => {
  const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'mm-sdk-')));
  const project = path.join(scratch, 'consumer');
  let server: TestService | undefined;

  beforeAll(async () => {
    const packed = (async () => {
      await run(
        'npx',
        ['turbo', 'run', 'build', '--filter=@mm/client', '--output-logs=errors-only'],
        ROOT,
      );
      const { stdout } = await run(
        'npm',
        ['pack', '-w', '@mm/contract', '-w', '@mm/client', '--json', '--pack-destination', scratch],
        ROOT,
      );
      const tarballs = (JSON.parse(stdout) as { filename: string }[]).map((p) =>
        path.join(scratch, p.filename),
      );
      cpSync(FIXTURES, project, { recursive: true });
      writeFileSync(
        path.join(project, 'package.json'),
        JSON.stringify({ name: 'sdk-consumer', version: '1.0.0', private: true }),
      );
      await run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...tarballs],
        project,
      );
    })();
    [server] = await Promise.all([startTestService('sdk_package'), packed]);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('when the project is looked at, then it lies outside the workspace', () => {
    expect(path.relative(ROOT, project).startsWith('..')).toBe(true);
  });

  it.each([
    ['CommonJS (require)', 'cjs', 101, 102],
    ['ES module (import)', 'mjs', 201, 202],
  ])(
    'when a %s script matches two users and one sends, then the other receives it',
    async (_kind, extension, first, second) => {
      const { stdout } = await run(
        process.execPath,
        [`chat.${extension}`, server!.url, String(first), String(second)],
        project,
      );
      const received = JSON.parse(stdout) as MessageView;
      expect(received).toMatchObject({ sender_id: first, seq: 1, body: `hello from ${extension}` });
    },
    60_000,
  );

  it('when a TypeScript project imports and requires the SDK, then the packed types check', async () => {
    // sdk-consumer/tsconfig.json: node16 resolution, strict, no types but the packages' own.
    await expect(run(process.execPath, [TSC, '-p', '.'], project)).resolves.toBeDefined();
  }, 60_000);
});
