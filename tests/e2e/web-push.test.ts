import type { Browser, Page } from 'playwright-core';
import { generateVapidKeys } from '@mm/core';
import {
  browserTestsEnabled,
  buildWebClient,
  launchChromium,
  openPage,
  startEmbeddedDemo,
  withScreenshots,
  type EmbeddedDemo,
} from './browser';
import { setUpProfile, signIn } from './demo';

/**
 * The demo's "Turn on notifications" control in headless Chromium against the embedded default
 * (docs/design.md §9.1). Headless Chromium has no push service, so the real flow is followed up to
 * `PushManager.subscribe()`: the test records what the page passed to it, and the state the page
 * shows when the browser cannot subscribe.
 */
const describeInBrowser = browserTestsEnabled() ? describe : describe.skip;

/**
 * Runs in the page before the app: keeps every `applicationServerKey` given to
 * `PushManager.subscribe()`, base64url, then lets the browser's own subscribe run.
 */
const RECORD_SUBSCRIBE = `(() => {
  const calls = (window.__subscribeCalls = []);
  const subscribe = PushManager.prototype.subscribe;
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    const base64 = btoa(String.fromCharCode(...key));
    calls.push({
      userVisibleOnly: options.userVisibleOnly,
      key: base64.replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''),
    });
    return subscribe.call(this, options);
  };
})()`;

const STAND_IN_ENDPOINT = 'https://push.example.com/send/web-push-e2e';

/**
 * Runs in the page before the app: a push service that always subscribes, standing in for the one
 * headless Chromium lacks. Everything else (worker, permission, the SDK's calls) is the real thing.
 */
const STAND_IN_PUSH_SERVICE = `(() => {
  window.__standInSubscribed = false;
  const subscription = {
    endpoint: '${STAND_IN_ENDPOINT}',
    toJSON: () => ({
      endpoint: '${STAND_IN_ENDPOINT}',
      keys: { p256dh: 'BN3sTJmcUiTKLmY3Qh4H0e2sQZ', auth: 'k3yAuthSecret_-' },
    }),
    unsubscribe: async () => {
      window.__standInSubscribed = false;
      return true;
    },
  };
  PushManager.prototype.subscribe = async () => {
    window.__standInSubscribed = true;
    return subscription;
  };
  PushManager.prototype.getSubscription = async () =>
    window.__standInSubscribed ? subscription : null;
})()`;

const pushControl = (page: Page) => page.getByRole('group', { name: 'Notifications' });

const start = (env: Record<string, string>) => startEmbeddedDemo('mm-web-push-', env);

describeInBrowser('push notifications in the demo web client', () => {
  const vapid = generateVapidKeys();
  let on: EmbeddedDemo;
  let off: EmbeddedDemo;
  let browser: Browser;

  beforeAll(async () => {
    buildWebClient();
    [on, off] = await Promise.all([
      start({
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        VAPID_SUBJECT: 'mailto:web-push-e2e@example.com',
      }),
      start({}),
    ]);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await on?.stop();
    await off?.stop();
  });

  it('when push is on and the user turns it on, then the worker registers, permission is granted and the page subscribes with the server’s key', async () => {
    const { context, page } = await openPage(browser, on.service.url);
    await withScreenshots('push-on', { page }, async () => {
      await context.grantPermissions(['notifications'], { origin: on.service.url });
      await context.addInitScript(RECORD_SUBSCRIBE);
      await page.reload();
      await signIn(page, 1);
      await pushControl(page).getByRole('button', { name: 'Turn on notifications' }).click();

      // No push service in headless Chromium: the subscription request fails, readably.
      await page.locator('.push-control[data-state="error"]').waitFor();
      await expect(pushControl(page).getByRole('alert').textContent()).resolves.toMatch(
        /push service is unavailable/,
      );
      expect(await page.evaluate('window.__subscribeCalls')).toEqual([
        { userVisibleOnly: true, key: vapid.publicKey },
      ]);
      expect(await page.evaluate('Notification.permission')).toBe('granted');
      const worker = await page.evaluate(
        `navigator.serviceWorker.ready.then((registration) => registration.active.scriptURL)`,
      );
      expect(worker).toBe(`${on.service.url}/sw.js`);
      await expect(
        pushControl(page).getByRole('button', { name: 'Try notifications again' }).isVisible(),
      ).resolves.toBe(true);
    });
    await context.close();
  });

  it('when the browser does get a subscription (a stand-in push service), then the server is told, and turning off tells it to forget the device', async () => {
    const { context, page } = await openPage(browser, on.service.url);
    await withScreenshots('push-stand-in', { page }, async () => {
      await context.grantPermissions(['notifications'], { origin: on.service.url });
      await context.addInitScript(STAND_IN_PUSH_SERVICE);
      await page.reload();
      await signIn(page, 2);
      // A device is registered only for a user with a profile (409 PROFILE_REQUIRED before).
      await setUpProfile(page, {
        name: 'Pia',
        city: 'Lisbon',
        birthDate: '1995-03-04',
        interests: 'jazz',
      });
      const registered = page.waitForResponse(
        (response) =>
          response.url().endsWith('/api/users/me/push-subscriptions') &&
          response.request().method() === 'POST',
      );
      await pushControl(page).getByRole('button', { name: 'Turn on notifications' }).click();
      expect((await registered).status()).toBe(201);
      await pushControl(page).getByRole('status').filter({ hasText: 'Notifications on' }).waitFor();

      const forgotten = page.waitForResponse(
        (response) =>
          response.url().endsWith('/api/users/me/push-subscriptions') &&
          response.request().method() === 'DELETE',
      );
      await pushControl(page).getByRole('button', { name: 'Turn off notifications' }).click();
      // 200, not 404: the server had the device the page registered, and forgot it.
      expect((await forgotten).status()).toBe(200);
      expect(JSON.parse((await forgotten).request().postData() ?? '{}')).toEqual({
        endpoint: STAND_IN_ENDPOINT,
      });
      await pushControl(page).getByRole('button', { name: 'Turn on notifications' }).waitFor();
      expect(await page.evaluate('window.__standInSubscribed')).toBe(false);
    });
    await context.close();
  });

  it('when push is off on the server, then no notification control is shown', async () => {
    const { context, page } = await openPage(browser, off.service.url);
    await withScreenshots('push-off', { page }, async () => {
      const config = page.waitForResponse((response) =>
        response.url().endsWith('/api/push/config'),
      );
      await signIn(page, 1);
      // Once the page knows push is off (its control's empty marker), there is nothing to offer.
      expect(await (await config).json()).toEqual({ enabled: false, vapid_public_key: null });
      await page.locator('.push-control[data-state="hidden"]').waitFor({ state: 'attached' });
      await expect(pushControl(page).count()).resolves.toBe(0);
      await expect(
        page.getByRole('button', { name: 'Turn on notifications' }).count(),
      ).resolves.toBe(0);
    });
    await context.close();
  });
});
