import { RestClient } from '@mm/client';
import { generateVapidKeys } from '@mm/core';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';

/** `GET /api/push/config`: what a browser needs before it subscribes (docs/design.md §9.1). */
describe('push config route', () => {
  const vapid = generateVapidKeys();
  let off: TestService;
  let on: TestService;

  beforeAll(async () => {
    off = await startTestService('push_config_off');
    on = await startTestService('push_config_on', {
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: 'mailto:push-config@example.com',
    });
  });
  afterAll(async () => {
    await off?.stop();
    await on?.stop();
  });

  it('when the server has VAPID keys, then push is on and the public key (never the private one) is given without a token', async () => {
    const answer = await callJson(on.url, undefined, 'GET', '/api/push/config');
    expect(answer).toEqual({
      status: 200,
      body: { enabled: true, vapid_public_key: vapid.publicKey },
    });
    expect(JSON.stringify(answer.body)).not.toContain(vapid.privateKey);
    // The SDK's method is the same route.
    expect(await new RestClient(on.url).pushConfig()).toEqual(answer.body);
  });

  it('when the server has no VAPID keys, then push is off and there is no key', async () => {
    expect(await new RestClient(off.url).pushConfig()).toEqual({
      enabled: false,
      vapid_public_key: null,
    });
  });
});
