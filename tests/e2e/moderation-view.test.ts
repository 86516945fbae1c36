import type { BrowserContext, Page } from 'playwright-core';
import { callJson } from '@mm/test-support/http';
import {
  browserTestsEnabled,
  openPage,
  startDemo,
  withScreenshots,
  type DemoInBrowser,
} from './browser';

/**
 * The demo's moderator view in headless Chromium against the embedded default with profile review
 * on: a moderator signs in with the moderator role, reads a report with its evidence and a pending
 * profile, approves the profile and suspends the reported user; the API then shows both took.
 */
const describeInBrowser = browserTestsEnabled() ? describe : describe.skip;

describeInBrowser('the moderator view of the demo web client', () => {
  let demo: DemoInBrowser;
  let desk: { context: BrowserContext; page: Page };

  const token = async (userId: number, role = 'user') =>
    (
      await callJson(demo.service.url, undefined, 'POST', '/api/auth/dev-token', {
        user_id: userId,
        role,
      })
    ).body.token as string;
  const as = (bearer: string, method: string, route: string, body?: unknown) =>
    callJson(demo.service.url, bearer, method, route, body);

  beforeAll(async () => {
    demo = await startDemo('mm-web-moderation-', { AUTO_APPROVE_PROFILES: 'false' });
    desk = await openPage(demo.browser, demo.service.url);
  }, 120_000);

  afterAll(() => demo?.close());

  it('when a moderator opens the moderation view, then they see the report with its evidence and the pending profile, and their decisions take effect', async () => {
    const [ann, bob, cid, mod] = await Promise.all([
      token(201),
      token(202),
      token(203),
      token(299, 'moderator'),
    ]);
    for (const [bearer, name] of [
      [ann, 'Ann'],
      [bob, 'Bob'],
      [cid, 'Cid'],
    ] as const) {
      await as(bearer, 'PUT', '/api/users/me', { display_name: name, city: 'Desk Town' });
    }
    for (const id of [201, 202]) {
      await as(mod, 'POST', `/api/moderation/profiles/${id}/approve`, { reason: 'ok' });
    }
    const found = await as(ann, 'POST', '/api/mystery/find-match', { city: 'Desk Town' });
    const matchId = found.body.match.id as number;
    await as(bob, 'POST', '/api/mystery/send-message', {
      match_id: matchId,
      client_id: 'threat-1',
      body: 'send me money or else',
    });
    expect(
      (await as(ann, 'POST', '/api/mystery/report', { match_id: matchId, reason: 'harassment' }))
        .status,
    ).toBe(201);

    await withScreenshots('moderation', { desk: desk.page }, async () => {
      const page = desk.page;
      await page.getByLabel('Demo user id').fill('299');
      await page.getByLabel('Role').selectOption('moderator');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Moderation' }).click();

      const report = page.getByRole('listitem', { name: /^Report \d+$/ });
      await report.getByText('#202: send me money or else').waitFor();
      const profile = page.getByRole('listitem', { name: 'Profile 203' });
      await profile.getByText('Cid').waitFor();

      await page.getByLabel('Reason').fill('Looks like a real person');
      await profile.getByRole('button', { name: 'Approve' }).click();
      await profile.waitFor({ state: 'detached' });

      await page.getByLabel('Reason').fill('Extortion in chat');
      await report.getByRole('button', { name: 'Suspend a day' }).click();
      await page.getByText('No open reports.').waitFor();
    });

    expect((await as(cid, 'GET', '/api/users/me')).body).toMatchObject({
      verification_status: 'approved',
    });
    expect(await as(bob, 'GET', '/api/users/me')).toMatchObject({
      status: 403,
      body: { error: { code: 'ACCOUNT_SUSPENDED' } },
    });
  }, 90_000);

  it('when a plain user signs in, then there is no moderation view', async () => {
    const { page } = await openPage(demo.browser, demo.service.url);
    await page.getByLabel('Demo user id').fill('210');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Set up your profile' }).waitFor();
    expect(await page.getByRole('button', { name: 'Moderation' }).count()).toBe(0);
  }, 30_000);
});
