import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { RunningProcess } from '@mm/test-support/processes';
import {
  ARTIFACTS,
  browserTestsEnabled,
  openPage,
  startDemo,
  withScreenshots,
  type DemoInBrowser,
} from './browser';
import {
  activeMatches,
  countRequests,
  findMatch,
  inViewport,
  messageBodies,
  messageSeqs,
  openFirstMatch,
  reloadIntoChat,
  send,
  setUpProfile,
  signIn,
  storedMessages,
  talkUntil,
  unlockLevel,
  waitForConnection,
  waitForNewestInView,
} from './demo';

/**
 * The demo web client in headless Chromium against the embedded default as `npm start` runs it
 * (one process, PGlite), two browser contexts as two users. The cases run in order on one match.
 */
const describeInBrowser = browserTestsEnabled() ? describe : describe.skip;

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** The lifecycle endpoint a polling client would call again and again. */
const MY_MATCHES = /\/api\/mystery\/my-matches\//;

describeInBrowser('the demo web client in a real browser', () => {
  let demo: DemoInBrowser;
  let service: RunningProcess;
  let browser: Browser;
  let ann: { context: BrowserContext; page: Page };
  let bob: { context: BrowserContext; page: Page };
  const pages = () => ({ ann: ann.page, bob: bob.page });

  beforeAll(async () => {
    // Many messages in a row: the per-user rate limit is not what these tests are about.
    demo = await startDemo('mm-web-e2e-', { MESSAGE_RATE_LIMIT: '10000' });
    ({ service, browser } = demo);
    ann = await openPage(browser, service.url, DESKTOP);
    bob = await openPage(browser, service.url, PHONE);
  }, 120_000);

  afterAll(() => demo?.close());

  it('when two users sign in, set up profiles and match, then they chat in real time with typing and read indicators', async () => {
    await withScreenshots('chat', pages(), async () => {
      await signIn(ann.page, 1);
      await setUpProfile(ann.page, {
        name: 'Ann',
        city: 'Lisbon',
        birthDate: '1994-05-17',
        interests: 'jazz, hiking',
        photoHue: 200,
      });
      await signIn(bob.page, 2);
      await setUpProfile(bob.page, {
        name: 'Bob',
        city: 'Porto',
        birthDate: '1992-02-03',
        interests: 'jazz, cooking',
      });
      await waitForConnection(ann.page, 'connected');
      await waitForConnection(bob.page, 'connected');

      await findMatch(ann.page);
      await openFirstMatch(bob.page);

      await send(ann.page, 'Hello, stranger');
      await storedMessages(bob.page, 'Hello, stranger').waitFor();

      await bob.page.getByLabel('Message', { exact: true }).pressSequentially('Hi Ann');
      await ann.page.getByText('Mystery User is typing…').waitFor();
      await bob.page.getByLabel('Message', { exact: true }).press('Enter');
      await storedMessages(ann.page, 'Hi Ann').waitFor();
      // Ann has the chat open, so Bob's message is read at once.
      await bob.page.getByTestId('read-receipt').waitFor();

      expect(await messageBodies(ann.page)).toEqual(['Hello, stranger', 'Hi Ann']);
      expect(await messageBodies(bob.page)).toEqual(['Hello, stranger', 'Hi Ann']);
    });
  }, 60_000);

  it('when a user goes offline and back, then they receive what they missed exactly once and what they typed offline is sent', async () => {
    await withScreenshots('offline', pages(), async () => {
      await bob.context.setOffline(true);
      await waitForConnection(bob.page, 'offline');
      await send(bob.page, 'Typed while offline');
      await bob.page.getByText('Waiting for connection…').waitFor();
      for (const n of [1, 2, 3]) await send(ann.page, `While you were away ${n}`);
      await storedMessages(ann.page, 'While you were away 3').waitFor();

      await bob.context.setOffline(false);
      await waitForConnection(bob.page, 'connected');
      await storedMessages(bob.page, 'While you were away 3').waitFor();
      await storedMessages(ann.page, 'Typed while offline').waitFor();
      await storedMessages(bob.page, 'Typed while offline').waitFor();

      const expected = [
        'Hello, stranger',
        'Hi Ann',
        'While you were away 1',
        'While you were away 2',
        'While you were away 3',
        'Typed while offline',
      ];
      expect(await messageBodies(bob.page)).toEqual(expected);
      expect(await messageBodies(ann.page)).toEqual(expected);
      expect(await bob.page.locator('.message[data-pending]').count()).toBe(0);
    });
  }, 90_000);

  it('when both pages reload a chat with history, then every message shows once, also after the socket reconnects', async () => {
    await withScreenshots('reload', pages(), async () => {
      const expected = await messageBodies(ann.page);
      expect(expected).toHaveLength(6);
      for (const { page, context } of [ann, bob]) {
        await reloadIntoChat(page);
        await storedMessages(page, 'Typed while offline').waitFor();
        // "connected" shows once the SDK's replay after connecting is done.
        expect(await messageBodies(page)).toEqual(expected);
        expect(await messageSeqs(page)).toEqual([1, 2, 3, 4, 5, 6]);

        await context.setOffline(true);
        await waitForConnection(page, 'offline').finally(() => context.setOffline(false));
        await waitForConnection(page, 'connected');
        expect(await messageBodies(page)).toEqual(expected);
      }
      // ...and a message after all that arrives once on both sides.
      await send(bob.page, 'Back again');
      await storedMessages(ann.page, 'Back again').waitFor();
      await storedMessages(bob.page, 'Back again').waitFor();
      expect(await messageBodies(ann.page)).toEqual([...expected, 'Back again']);
      expect(await messageBodies(bob.page)).toEqual([...expected, 'Back again']);
    });
  }, 90_000);

  it('when Bob writes while Ann is on her match list, then he sees ✓ then ✓✓, she sees the preview and unread counts, and an unsend removes it on both sides', async () => {
    await withScreenshots('receipts', pages(), async () => {
      const mark = (page: Page, text: string) =>
        storedMessages(page, text).getByTestId('receipt-mark');
      // Ann leaves the chat: what arrives now reaches her device but is not read.
      await ann.page.getByRole('button', { name: 'Matches', exact: true }).click();
      await ann.page.getByText('Pick a match').waitFor();
      await send(bob.page, 'Still there?');
      await mark(bob.page, 'Still there?')
        .and(bob.page.locator('[data-state="delivered"]'))
        .waitFor();
      expect(await mark(bob.page, 'Still there?').textContent()).toBe(' ✓');

      const item = activeMatches(ann.page).first();
      await item.getByTestId('match-preview').filter({ hasText: 'Still there?' }).waitFor();
      await item.getByLabel('1 unread').waitFor();
      await ann.page.getByTestId('unread-total').filter({ hasText: '1 unread' }).waitFor();

      // She opens it: read, and the counts go.
      await openFirstMatch(ann.page);
      await mark(bob.page, 'Still there?').and(bob.page.locator('[data-state="read"]')).waitFor();
      expect(await mark(bob.page, 'Still there?').textContent()).toBe(' ✓✓');
      await ann.page.getByTestId('unread-total').waitFor({ state: 'detached' });

      // Bob takes it back: gone on both sides, its place kept.
      const seq = Number(await storedMessages(bob.page, 'Still there?').getAttribute('data-seq'));
      await bob.page.getByRole('button', { name: `Unsend message ${seq}` }).click();
      for (const page of [ann.page, bob.page]) {
        await page
          .locator(`.message[data-seq="${seq}"] .body.deleted`)
          .filter({ hasText: 'Message deleted' })
          .waitFor();
        expect(await storedMessages(page, 'Still there?').count()).toBe(0);
      }
      // Only the sender is offered to take a message back.
      expect(await ann.page.getByRole('button', { name: `Unsend message ${seq}` }).count()).toBe(0);
      await ann.page.getByRole('button', { name: 'Matches', exact: true }).click();
      await activeMatches(ann.page)
        .first()
        .getByTestId('match-preview')
        .filter({ hasText: 'Message deleted' })
        .waitFor();
      await openFirstMatch(ann.page);
    });
  }, 60_000);

  it('when the connection drops, then a readable notice says so, and it is gone once reconnected', async () => {
    await withScreenshots('offline-notice', pages(), async () => {
      const notice = ann.page.locator('.notice');
      await ann.context.setOffline(true);
      try {
        await waitForConnection(ann.page, 'offline');
        await notice.filter({ hasText: 'You are offline' }).waitFor();
        // A request made while offline fails in words a person understands, or quietly.
        const failed = ann.page.waitForEvent('requestfailed', {
          predicate: (request) => request.url().includes('/extend-match'),
        });
        await ann.page.getByRole('button', { name: 'Extend 24 h' }).click();
        await failed;
        await ann.page
          .locator('.actions button:not([disabled])', { hasText: 'Extend 24 h' })
          .waitFor();
        expect(await ann.page.getByText('Failed to fetch').count()).toBe(0);
        await notice.filter({ hasText: 'You are offline' }).waitFor();
      } finally {
        await ann.context.setOffline(false); // the next cases need Ann online, whatever happened
      }
      await waitForConnection(ann.page, 'connected');
      await notice.waitFor({ state: 'detached' });
      expect(await ann.page.getByText('Failed to fetch').count()).toBe(0);
      expect(await ann.page.locator('[role="alert"]').count()).toBe(0);
    });
  }, 60_000);

  it('when the match reaches 20 messages, then each side sees the partner unlock to level 1 (age and city)', async () => {
    await withScreenshots('unlock', pages(), async () => {
      await unlockLevel(bob.page, 0).waitFor();
      await talkUntil(ann.page, bob.page, 20);
      await storedMessages(bob.page, 'Message number 20').waitFor();

      await unlockLevel(bob.page, 1).waitFor();
      await bob.page.locator('.partner-facts').getByText('Lisbon').waitFor();
      await unlockLevel(ann.page, 1).waitFor();
      await ann.page.locator('.partner-facts').getByText('Porto').waitFor();
      // The partner card grew: the list kept its newest message in view all the same.
      await waitForNewestInView(bob.page);
      await waitForNewestInView(ann.page);
      // Nothing above level 1 yet: neither the name nor the interests.
      expect(await bob.page.locator('.partner-name').textContent()).toContain('Mystery User');
      expect(await bob.page.getByRole('list', { name: 'Interests' }).count()).toBe(0);
    });
  }, 90_000);

  it("when the match reaches 60 messages, then Bob sees Ann's photo, blurred 50 % by the server", async () => {
    await withScreenshots('unlock-photo', pages(), async () => {
      expect(await bob.page.locator('.avatar img').count()).toBe(0); // no photo below level 2
      await talkUntil(ann.page, bob.page, 60);
      await storedMessages(bob.page, 'Message number 60').waitFor();

      await unlockLevel(bob.page, 2).waitFor();
      const photo = bob.page.locator('.avatar[data-blur="50"] img');
      await photo.waitFor();
      expect(await photo.getAttribute('alt')).toBe("Partner's photo, 50 % blurred");
      // Loaded from the server's per-match endpoint, with Bob's token (an object URL).
      expect(await photo.getAttribute('src')).toMatch(/^blob:/);
      // ...and it decodes: the image has pixels.
      await bob.page.waitForFunction(
        `document.querySelector('.avatar[data-blur="50"] img')?.naturalWidth > 0`,
      );
    });
  }, 90_000);

  it('when a long chat is loaded, then the header and the composer stay in view on a desktop and on a phone', async () => {
    await withScreenshots('layout', pages(), async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      for (const [label, { page }] of Object.entries({ desktop: ann, phone: bob })) {
        await reloadIntoChat(page);
        await storedMessages(page, 'Message number 60').waitFor();
        // The latest page of history, each message once.
        const seqs = await messageSeqs(page);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(seqs.at(-1)).toBe(60);

        const header = page.locator('header.topbar');
        const composer = page.locator('form.composer');
        expect(await inViewport(page, header)).toBe(true);
        expect(await inViewport(page, composer)).toBe(true);
        // Typing scrolls whatever can scroll to the input: the header stays put all the same.
        await page.getByLabel('Message', { exact: true }).focus();
        await page.evaluate('window.scrollTo(0, document.body.scrollHeight)');
        expect(await inViewport(page, header)).toBe(true);
        expect(await inViewport(page, composer)).toBe(true);
        // The newest message is in view above the composer.
        await waitForNewestInView(page);
        await page.screenshot({ path: path.join(ARTIFACTS, `layout-${label}.png`) });
      }
      // The rest of the history is a click away, and it too shows each message once.
      await ann.page.getByRole('button', { name: 'Show earlier messages' }).click();
      await storedMessages(ann.page, 'Hello, stranger').waitFor();
      expect(await messageSeqs(ann.page)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(await ann.page.getByRole('button', { name: 'Show earlier messages' }).count()).toBe(0);
    });
  }, 90_000);

  it('when one side asks for a secret chat and the other accepts, then both see it on and new messages are secret', async () => {
    await withScreenshots('secret-chat', pages(), async () => {
      const polls = [countRequests(ann.page, MY_MATCHES), countRequests(bob.page, MY_MATCHES)];
      await ann.page.getByRole('button', { name: 'Request secret chat' }).click();
      await ann.page.getByText('waiting for your match to accept').waitFor();
      await bob.page.getByRole('button', { name: 'Accept secret chat' }).click();
      await bob.page.locator('.secret-on').waitFor();
      await ann.page.locator('.secret-on').waitFor();

      await send(ann.page, 'Just between us');
      await storedMessages(bob.page, 'Just between us').locator('.secret').waitFor();
      // Each side learnt of the other's step from a pushed event, not by asking again.
      expect(polls.map((poll) => poll.count())).toEqual([0, 0]);
      for (const poll of polls) poll.stop();
    });
  }, 60_000);

  it('when a user extends, reports and unmatches, then the match ends for both and the chat turns read-only', async () => {
    await withScreenshots('lifecycle', pages(), async () => {
      const polls = [countRequests(ann.page, MY_MATCHES), countRequests(bob.page, MY_MATCHES)];
      await ann.page.getByRole('button', { name: 'Extend 24 h' }).click();
      await ann.page.getByText('Extended by 24 hours.').waitFor();
      await bob.page.locator('.expiry').filter({ hasText: 'extended once' }).waitFor();

      await moreActions(bob.page, 'Report');
      await bob.page.getByLabel('Reason').selectOption('spam');
      await bob.page.getByLabel('Details (optional)').fill('Too many messages about jazz');
      await bob.page.getByRole('button', { name: 'Send report' }).click();
      await bob.page.getByText('the report was sent').waitFor();

      await moreActions(ann.page, 'Unmatch');
      await ann.page.getByRole('button', { name: 'Yes, unmatch' }).click();
      await ann.page.getByText('This match has ended (unmatched).').waitFor();
      await bob.page.getByText('This match has ended (unmatched).').waitFor();
      expect(await bob.page.getByLabel('Message', { exact: true }).count()).toBe(0);
      expect(polls.map((poll) => poll.count())).toEqual([0, 0]);
      for (const poll of polls) poll.stop();
    });
  }, 60_000);

  it('when a user blocks their match, then the match ends and neither finds the other again', async () => {
    await withScreenshots('block', pages(), async () => {
      await ann.page.getByRole('button', { name: 'Matches', exact: true }).click();
      await findMatch(ann.page);
      await bob.page.getByRole('button', { name: 'Matches', exact: true }).click();
      await openFirstMatch(bob.page);
      await moreActions(bob.page, 'Block');
      await bob.page.getByRole('button', { name: 'Yes, block' }).click();
      await bob.page.getByText('This match has ended (blocked).').waitFor();
      await ann.page.getByText('This match has ended (blocked).').waitFor();

      await ann.page.getByRole('button', { name: 'Matches', exact: true }).click();
      await ann.page.getByRole('button', { name: 'Find a match' }).click();
      await ann.page.locator('.find [role="alert"]').waitFor();
      expect(await activeMatches(ann.page).count()).toBe(0);
    });
  }, 60_000);
});

/** Opens the match's "More" actions and picks one. */
async function moreActions(page: Page, action: 'Unmatch' | 'Block' | 'Report'): Promise<void> {
  await page.locator('.more summary').click();
  await page.getByRole('button', { name: action, exact: true }).click();
}
