import { createUser, freshUserId } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/** The REST limits in the embedded default: in process memory, same answers as with Redis. */
describe('REST rate limits in the embedded default', () => {
  let api: TestService;

  beforeAll(async () => {
    api = await startTestService('rate_embedded', {
      HTTP_RATE_LIMIT_PER_USER: '4',
      HTTP_RATE_LIMIT_PER_IP: '1000',
    });
  });
  afterAll(() => api?.stop());

  it('when a user goes past their budget, then it is 429 with Retry-After while others and the probes go on', async () => {
    // createUser spends one call (the profile save); the dev token is not a user's call.
    const ann = await createUser(api.url, freshUserId());
    const bob = await createUser(api.url, freshUserId());
    const me = () =>
      fetch(`${api.url}/api/users/me`, { headers: { authorization: `Bearer ${ann.token}` } });
    for (let i = 0; i < 3; i++) expect((await me()).status).toBe(200);
    const limited = await me();
    expect(limited.status).toBe(429);
    const { error } = (await limited.json()) as {
      error: { code: string; details: { retry_after: number } };
    };
    expect(error.code).toBe('RATE_LIMITED');
    expect(limited.headers.get('retry-after')).toBe(String(error.details.retry_after));
    expect((await bob.rest.saveProfile({ display_name: 'Bob' })).display_name).toBe('Bob');
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });
});

/** The embedded default listens directly: no proxy in front whose X-Forwarded-For it could trust. */
describe('the per-address REST limit in the embedded default, against a spoofed X-Forwarded-For', () => {
  let api: TestService;

  beforeAll(async () => {
    api = await startTestService('rate_spoofed_xff', { HTTP_RATE_LIMIT_PER_IP: '5' });
  });
  afterAll(() => api?.stop());

  it('when a client sends a new X-Forwarded-For with every request, then all count against its one address and no extra dev token is minted', async () => {
    const devToken = (spoofed: string) =>
      fetch(`${api.url}/api/auth/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': spoofed },
        body: JSON.stringify({ user_id: freshUserId() }),
      });
    const statuses: number[] = [];
    for (let i = 1; i <= 8; i++) statuses.push((await devToken(`203.0.113.${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    const anotherRoute = await fetch(`${api.url}/api/users/me`, {
      headers: { 'x-forwarded-for': '198.51.100.7, 198.51.100.8' },
    });
    expect(anotherRoute.status).toBe(429);
  });
});
