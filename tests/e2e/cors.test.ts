import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { browserTestsEnabled, launchChromium, withScreenshots } from './browser';

/**
 * Cross-origin clients in a real browser: a web app served from another origin than the service's
 * calls the REST API (with a bearer token, so Chromium sends a preflight first) and opens a
 * Socket.IO connection with the stock browser bundle. From an origin in CORS_ORIGINS both work;
 * from one that is not listed, Chromium itself refuses: fetch rejects with a TypeError, the socket
 * gets connect_error, and a write never reaches the service.
 */
const describeInBrowser = browserTestsEnabled() ? describe : describe.skip;

/** The stock Socket.IO browser client, as a web app would ship it. */
const SOCKET_IO_BUNDLE = readFileSync(require.resolve('socket.io-client/dist/socket.io.js'));

interface PageOrigin {
  origin: string;
  server: Server;
}

/** A tiny web app on a loopback port of its own: a blank page and the Socket.IO bundle. */
async function servePage(): Promise<PageOrigin> {
  const server = createServer((request, response) => {
    if (request.url === '/socket.io.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' });
      response.end(SOCKET_IO_BUNDLE);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      '<!doctype html><title>another origin</title><script src="/socket.io.js"></script>',
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, server };
}

/** What the page's own calls to the service came to, read inside the page. */
type CallOutcome = { status: number; displayName?: string } | { error: string };
interface CrossOriginOutcome {
  read: CallOutcome;
  write: CallOutcome;
  socket: { connected: true } | { connectError: string };
}

/** From the page: GET and PUT /api/users/me with the token, then a Socket.IO connection. */
function callFromPage(page: Page, api: string, token: string): Promise<CrossOriginOutcome> {
  return page.evaluate(
    async ({ api, token }) => {
      // The page's globals (tests compile without the DOM library): its origin, and the `io` the
      // bundle defines, since the page has no module loader.
      const { io, location } = globalThis as unknown as {
        location: { origin: string };
        io: (
          url: string,
          options: object,
        ) => { once(event: string, listener: (error?: Error) => void): void; close(): void };
      };
      const call = async (init: RequestInit): Promise<CallOutcome> => {
        try {
          const response = await fetch(`${api}/api/users/me`, {
            ...init,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          });
          const body = (await response.json()) as { display_name?: string };
          return { status: response.status, displayName: body.display_name };
        } catch (error) {
          return { error: `${(error as Error).name}: ${(error as Error).message}` };
        }
      };
      const read = await call({});
      const write = await call({
        method: 'PUT',
        body: JSON.stringify({ display_name: `written from ${location.origin}` }),
      });
      const socket = await new Promise<CrossOriginOutcome['socket']>((resolve) => {
        const client = io(api, { auth: { token }, reconnection: false });
        client.once('connect', () => {
          client.close();
          resolve({ connected: true });
        });
        client.once('connect_error', (error) => {
          client.close();
          resolve({ connectError: error!.message });
        });
      });
      return { read, write, socket };
    },
    { api, token },
  );
}

describeInBrowser('a web app on another origin, in a real browser', () => {
  let listed: PageOrigin;
  let unlisted: PageOrigin;
  let service: TestService;
  let browser: Browser;
  let ann: TestUser;

  beforeAll(async () => {
    [listed, unlisted] = await Promise.all([servePage(), servePage()]);
    service = await startTestService('cors_browser', { CORS_ORIGINS: listed.origin });
    ann = await createUser(service.url, freshUserId(), 'Ann');
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    for (const page of [listed, unlisted]) page?.server.close();
  });

  /** Ann's display name as the service holds it, read without a browser. */
  const storedName = async () => {
    const response = await fetch(`${service.url}/api/users/me`, {
      headers: { authorization: `Bearer ${ann.token}` },
    });
    return ((await response.json()) as { display_name: string }).display_name;
  };

  const openAt = async (origin: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(origin);
    return { context, page };
  };

  it('when the origin is in CORS_ORIGINS, then the page reads and writes through the REST API and its socket connects', async () => {
    const { context, page } = await openAt(listed.origin);
    await withScreenshots('cors-listed', { page }, async () => {
      const outcome = await callFromPage(page, service.url, ann.token);
      expect(outcome).toEqual({
        read: { status: 200, displayName: 'Ann' },
        write: { status: 200, displayName: `written from ${listed.origin}` },
        socket: { connected: true },
      });
      expect(await storedName()).toBe(`written from ${listed.origin}`);
    });
    await context.close();
  }, 30_000);

  it('when the origin is not listed, then the browser refuses: fetch rejects with a TypeError, the write never lands, the socket gets connect_error', async () => {
    const before = await storedName();
    const { context, page } = await openAt(unlisted.origin);
    await withScreenshots('cors-unlisted', { page }, async () => {
      const outcome = await callFromPage(page, service.url, ann.token);
      expect(outcome.read).toEqual({ error: expect.stringMatching(/^TypeError: /) });
      expect(outcome.write).toEqual({ error: expect.stringMatching(/^TypeError: /) });
      expect(outcome.socket).toEqual({ connectError: expect.any(String) });
      // The PUT needed a preflight, which the service did not allow: it was never sent.
      expect(await storedName()).toBe(before);
    });
    await context.close();
  }, 30_000);
});
