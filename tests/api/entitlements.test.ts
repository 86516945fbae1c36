import { createHmac } from 'node:crypto';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { callJson } from '@mm/test-support/http';
import { startTestService, type TestService } from '@mm/test-support/embedded';

const WEBHOOK_SECRET = 'a-webhook-secret-only-this-test-file-knows';
const HEADER = 'x-entitlements-signature';
/** The header with its signature's last hex digit changed. */
const flipLast = (header: string) => header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
const inADay = () => new Date(Date.now() + 24 * 3600_000).toISOString();

/** Signs `body` as the billing system would, at `at` (ms since the epoch). */
function signed(body: string, at = Date.now(), secret = WEBHOOK_SECRET) {
  const t = Math.floor(at / 1000);
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/**
 * Premium granted or revoked until an instant: by an admin over REST, or by a billing system's
 * signed, replay-protected webhook. Either way stats and the daily limit follow it.
 */
describe('premium entitlements', () => {
  let api: TestService;
  let admin: string;
  let moderator: string;

  const tokenAs = async (role: string) => {
    const answer = await callJson<{ token: string }>(
      api.url,
      undefined,
      'POST',
      '/api/auth/dev-token',
      {
        user_id: freshUserId(),
        role,
      },
    );
    return answer.body.token;
  };

  const grant = (token: string | undefined, userId: number, until: string | null) =>
    callJson(api.url, token, 'PUT', `/api/admin/users/${userId}/premium`, { until });

  async function deliver(body: string, header?: string) {
    const response = await fetch(`${api.url}/api/webhooks/entitlements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header && { [HEADER]: header }) },
      body,
    });
    const json = (await response.json()) as { error?: { code: string }; is_premium?: boolean };
    return { status: response.status, code: json.error?.code, body: json };
  }

  beforeAll(async () => {
    api = await startTestService('entitlements', {
      ENTITLEMENTS_WEBHOOK_SECRET: WEBHOOK_SECRET,
      DAILY_MATCH_LIMIT: '1',
    });
    admin = await tokenAs('admin');
    moderator = await tokenAs('moderator');
  });
  afterAll(() => api?.stop());

  describe('the admin route', () => {
    let ann: TestUser;
    beforeAll(async () => {
      ann = await createUser(api.url, freshUserId(), 'Ann');
    });

    it('when an admin grants premium until tomorrow, then the user is premium with no daily limit; revoked, they are free again', async () => {
      const until = inADay();
      const granted = await grant(admin, ann.id, until);
      expect(granted).toEqual({
        status: 200,
        body: { user_id: ann.id, is_premium: true, premium_until: until },
      });
      expect(await ann.rest.stats()).toMatchObject({ is_premium: true, daily_limit: null });

      const revoked = await grant(admin, ann.id, null);
      expect(revoked.body).toEqual({ user_id: ann.id, is_premium: false, premium_until: null });
      expect(await ann.rest.stats()).toMatchObject({ is_premium: false, daily_limit: 1 });
    });

    it('when the date has passed, then the grant leaves the user free', async () => {
      const past = new Date(Date.now() - 60_000).toISOString();
      expect((await grant(admin, ann.id, past)).body).toMatchObject({ is_premium: false });
      expect(await ann.rest.stats()).toMatchObject({ is_premium: false });
    });

    it('when a user or a moderator calls it, then it is 403 and nothing changes', async () => {
      for (const token of [ann.token, moderator]) {
        const answer = await grant(token, ann.id, inADay());
        expect(answer).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      }
      expect(await ann.rest.stats()).toMatchObject({ is_premium: false });
    });

    it('when the user has no account, or the date is not one, then it is 404 or 400', async () => {
      expect((await grant(admin, freshUserId(), inADay())).status).toBe(404);
      expect(await grant(admin, ann.id, 'tomorrow')).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED' } },
      });
    });
  });

  describe('the signed webhook', () => {
    let bob: TestUser;
    let events = 0;
    const event = (until: string | null, userId = bob.id) =>
      JSON.stringify({ event_id: `evt-${++events}-${userId}`, user_id: userId, until });

    beforeAll(async () => {
      bob = await createUser(api.url, freshUserId(), 'Bob');
    });

    it('when a correctly signed event grants premium, then it is applied; a revocation likewise', async () => {
      const until = inADay();
      const body = event(until);
      const applied = await deliver(body, signed(body));
      expect(applied).toMatchObject({ status: 200, body: { user_id: bob.id, is_premium: true } });
      expect(await bob.rest.stats()).toMatchObject({ is_premium: true });

      const revoke = event(null);
      expect(await deliver(revoke, signed(revoke))).toMatchObject({ status: 200 });
      expect(await bob.rest.stats()).toMatchObject({ is_premium: false });
    });

    it('when the signature is missing, malformed, of another secret or of another body, then it is 401 SIGNATURE_INVALID and nothing changes', async () => {
      const body = event(inADay());
      const other = event(inADay());
      for (const header of [
        undefined,
        'garbage',
        signed(body, Date.now(), 'another-secret-of-the-same-length-or-more'),
        signed(other),
        flipLast(signed(body)),
      ]) {
        expect({ header, ...(await deliver(body, header)) }).toMatchObject({
          header,
          status: 401,
          code: 'SIGNATURE_INVALID',
        });
      }
      expect(await bob.rest.stats()).toMatchObject({ is_premium: false });
      // The body was not applied, so its event id is still free.
      expect(await deliver(body, signed(body))).toMatchObject({ status: 200 });
      const revoke = event(null);
      await deliver(revoke, signed(revoke));
    });

    it('when the timestamp is more than 5 minutes old (or ahead), then it is refused though the signature matches', async () => {
      const body = event(inADay());
      const sixMinutes = 6 * 60_000;
      expect(await deliver(body, signed(body, Date.now() - sixMinutes))).toMatchObject({
        status: 401,
        code: 'SIGNATURE_INVALID',
      });
      expect(await deliver(body, signed(body, Date.now() + sixMinutes))).toMatchObject({
        status: 401,
        code: 'SIGNATURE_INVALID',
      });
      expect(await bob.rest.stats()).toMatchObject({ is_premium: false });
    });

    it('when a delivered event is sent again, then it is 409 WEBHOOK_REPLAYED and changes nothing', async () => {
      const grantBody = event(inADay());
      const header = signed(grantBody);
      expect(await deliver(grantBody, header)).toMatchObject({ status: 200 });
      const revoke = event(null);
      expect(await deliver(revoke, signed(revoke))).toMatchObject({ status: 200 });
      // The captured grant, sent again within the 5 minutes, must not make Bob premium again.
      expect(await deliver(grantBody, header)).toMatchObject({
        status: 409,
        code: 'WEBHOOK_REPLAYED',
      });
      expect(await deliver(grantBody, signed(grantBody))).toMatchObject({
        status: 409,
        code: 'WEBHOOK_REPLAYED',
      });
      expect(await bob.rest.stats()).toMatchObject({ is_premium: false });
    });

    it('when the event names a user without an account, then it is 404 and may be delivered again later', async () => {
      const carlId = freshUserId();
      const body = event(inADay(), carlId);
      expect(await deliver(body, signed(body))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
      const carl = await createUser(api.url, carlId, 'Carl');
      expect(await deliver(body, signed(body))).toMatchObject({ status: 200 });
      expect(await carl.rest.stats()).toMatchObject({ is_premium: true });
    });
  });

  it("when a premium user matches beyond the free limit, then stats count every match of the day like everyone's", async () => {
    const city = `Entitled ${freshUserId()}`;
    const dee = await createUser(api.url, freshUserId(), 'Dee');
    await dee.rest.saveProfile({ display_name: 'Dee', city });
    for (const name of ['Eve', 'Fay']) {
      const other = await createUser(api.url, freshUserId(), name);
      await other.rest.saveProfile({ display_name: name, city });
    }
    expect((await grant(admin, dee.id, inADay())).status).toBe(200);
    await dee.rest.findMatch(dee.id, { city });
    await dee.rest.findMatch(dee.id, { city });
    expect(await dee.rest.stats()).toMatchObject({
      is_premium: true,
      matches_today: 2,
      daily_limit: null,
      remaining_today: null,
    });
    // Revoked, the same count now holds them at the free limit (1).
    expect((await grant(admin, dee.id, null)).status).toBe(200);
    expect(await dee.rest.stats()).toMatchObject({ matches_today: 2, remaining_today: 0 });
  });
});
