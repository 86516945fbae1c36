import { RestClient } from '@mm/client';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';

/** The push subscription and notification settings routes over HTTP, on the embedded service. */
describe('notification routes', () => {
  let api: TestService;
  let ann: TestUser;
  const subscription = {
    endpoint: 'https://push.example.com/send/abc123',
    keys: { p256dh: 'BN3sTJmcUiTKLmY3Qh4H0e2sQZ', auth: 'k3yAuthSecret_-' },
  };

  beforeAll(async () => {
    api = await startTestService('notification_routes');
    ann = await createUser(api.url, freshUserId(), 'Ann');
  });
  afterAll(() => api?.stop());

  const call = (method: string, path: string, body?: unknown, token = ann.token) =>
    callJson(api.url, token, method, path, body);

  it('when a device registers and unregisters, then 201, then ok, then 404 for one no longer there', async () => {
    const created = await call('POST', '/api/users/me/push-subscriptions', subscription);
    expect(created).toMatchObject({ status: 201, body: { endpoint: subscription.endpoint } });
    const again = await call('POST', '/api/users/me/push-subscriptions', subscription);
    expect(again.status).toBe(201); // the same device again: refreshed, not duplicated
    const forget = { endpoint: subscription.endpoint };
    expect(await call('DELETE', '/api/users/me/push-subscriptions', forget)).toMatchObject({
      status: 200,
      body: { ok: true },
    });
    const gone = await call('DELETE', '/api/users/me/push-subscriptions', forget);
    expect(gone).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('when a subscription is not https or its keys are not base64url, then 400 names the field', async () => {
    const plain = await call('POST', '/api/users/me/push-subscriptions', {
      ...subscription,
      endpoint: 'http://push.example.com/send/abc',
    });
    expect(plain).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    expect(JSON.stringify(plain.body)).toContain('endpoint');
    const keys = await call('POST', '/api/users/me/push-subscriptions', {
      ...subscription,
      keys: { p256dh: 'not base64!', auth: 'x' },
    });
    expect(keys.status).toBe(400);
    expect(JSON.stringify(keys.body)).toContain('p256dh');
  });

  it('when settings were never set, then the defaults; when put, then read back as put', async () => {
    expect((await call('GET', '/api/users/me/notification-settings')).body).toEqual({
      kinds: { match: true, message: true, unlock: true, expiring: true },
      previews: false,
      quiet_hours: null,
    });
    const settings = {
      kinds: { match: true, message: false, unlock: true, expiring: true },
      previews: true,
      quiet_hours: { start: '22:30', end: '07:00', time_zone: 'Europe/Berlin' },
    };
    expect(await call('PUT', '/api/users/me/notification-settings', settings)).toEqual({
      status: 200,
      body: settings,
    });
    expect((await call('GET', '/api/users/me/notification-settings')).body).toEqual(settings);
    // The SDK's methods are the same routes.
    const quiet = { ...settings, quiet_hours: null };
    expect(await ann.rest.saveNotificationSettings(quiet)).toEqual(quiet);
    expect(await ann.rest.notificationSettings()).toEqual(quiet);
    await ann.rest.subscribePush(subscription);
    await ann.rest.unsubscribePush(subscription.endpoint);
    await expect(ann.rest.unsubscribePush(subscription.endpoint)).rejects.toMatchObject({
      status: 404,
    });
  });

  it('when the time zone is unknown, then 400; when the caller has no profile, then 409 PROFILE_REQUIRED', async () => {
    const bad = await call('PUT', '/api/users/me/notification-settings', {
      kinds: { match: true, message: true, unlock: true, expiring: true },
      previews: false,
      quiet_hours: { start: '22:00', end: '07:00', time_zone: 'Atlantis/Capital' },
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const token = await new RestClient(api.url, () => undefined).devToken(freshUserId());
    const noProfile = await call('POST', '/api/users/me/push-subscriptions', subscription, token);
    expect(noProfile).toMatchObject({ status: 409, body: { error: { code: 'PROFILE_REQUIRED' } } });
  });
});
