import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startApp, type RunningProcess } from '@mm/test-support/processes';

const ROOT = path.resolve(__dirname, '../..');

/** Debian's chromium package; the tests never download a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of failed browser tests, kept by CI (git-ignored). */
export const ARTIFACTS = path.join(ROOT, 'artifacts', 'e2e');

/**
 * Whether the browser tests can run here. Without Chromium they are skipped with a message, except
 * under CI, where a missing browser must fail the run rather than pass it silently.
 */
export function browserTestsEnabled(): boolean {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return true;
  console.warn(
    `Skipping the browser tests: ${CHROMIUM} is missing (apt-get install -y chromium; CI=true makes them run and fail instead).`,
  );
  return false;
}

/** Builds apps/web into apps/web/dist, which the embedded default serves at `/`. */
export function buildWebClient(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build'], {
    cwd: path.join(ROOT, 'apps/web'),
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** Headless Chromium with a fresh profile (Playwright gives each launch a new user-data-dir). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A browser context of its own per demo user: its own storage, and its own network to cut. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1100, height: 800 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(url);
  return { context, page };
}

/** Runs a test body; when it fails, saves a screenshot of every page under artifacts/e2e. */
export async function withScreenshots(
  name: string,
  pages: Record<string, Page>,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    for (const [label, page] of Object.entries(pages)) {
      await page
        .screenshot({ path: path.join(ARTIFACTS, `${slug}-${label}.png`), fullPage: true })
        .catch(() => undefined);
    }
    throw error;
  }
}

/** The embedded default on PGlite alone: no PostgreSQL, Redis, fixed secret or dev-token switch. */
const NO_SERVICES = { DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', DEV_TOKENS: '' };

export interface EmbeddedDemo {
  service: RunningProcess;
  /** Stops the service and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * The embedded default as `npm start` runs it (one process, PGlite) on a fresh data directory
 * named after `label`, with `env` on top. Serves whatever `buildWebClient` last built.
 */
export async function startEmbeddedDemo(
  label: string,
  env: Record<string, string> = {},
): Promise<EmbeddedDemo> {
  const dataDir = mkdtempSync(path.join(tmpdir(), label));
  try {
    const service = await startApp(
      'embedded',
      { ...NO_SERVICES, DATA_DIR: dataDir, ...env },
      60_000,
    );
    return {
      service,
      async stop() {
        await service.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface DemoInBrowser {
  service: RunningProcess;
  browser: Browser;
  /** Closes the browser, then stops the service and removes its data directory. */
  close(): Promise<void>;
}

/** Builds the demo web client, starts the embedded default serving it, and launches Chromium. */
export async function startDemo(
  label: string,
  env: Record<string, string> = {},
): Promise<DemoInBrowser> {
  buildWebClient();
  const demo = await startEmbeddedDemo(label, env);
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await demo.stop();
    throw error;
  }
  return {
    service: demo.service,
    browser,
    async close() {
      await browser.close();
      await demo.stop();
    },
  };
}
