import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Installs are reproducible: the committed lockfile is what `npm ci` installs, here and in the
 * image. No Docker engine runs where the tests do, so the image's install path is run the way the
 * Dockerfile runs it: `turbo prune` for the app, then `npm ci` in the pruned folder.
 */
const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);
const APPS = ['api', 'gateway'] as const;

describe('the install', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'mm-install-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('when the Dockerfile installs, then it uses npm ci on the pruned lockfile', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).not.toMatch(/^RUN npm install\b/m);
  });

  it.each(APPS)(
    'when the %s image is pruned as the Dockerfile does, then npm ci accepts its lockfile',
    async (app) => {
      const out = path.join(scratch, app);
      await run('npx', ['turbo', 'prune', `@mm/${app}`, '--docker', '--out-dir', out], {
        cwd: ROOT,
      });
      cpSync(path.join(ROOT, '.npmrc'), path.join(out, 'json', '.npmrc'));
      // --ignore-scripts: what is checked is that the lockfile and package.json agree, which
      // npm ci refuses to proceed without; the packages' own build steps are not the question.
      await run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
        cwd: path.join(out, 'json'),
        env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
      });
    },
    180_000,
  );
});
