import { TokenService } from '@mm/core';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { freshUserId } from '@mm/test-support/chat';
import { eventually, get } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { JWT_SECRET, scaledEnv } from '@mm/test-support/realtime';

/**
 * The REST limits live in Redis, so two API pods share one budget per user and per address. Two
 * API processes on one Redis prefix, 5 requests per user and 20 per address a minute. Each test
 * comes from an address of its own (X-Forwarded-For, as the one proxy the API trusts by default
 * would send it).
 */
describe('REST rate limits across two API pods', () => {
  let schema: TestSchema;
  let pods: RunningProcess[];
  const tokens = new TokenService(JWT_SECRET);

  beforeAll(async () => {
    schema = await createTestSchema('http_rate');
    const env = scaledEnv(schema, 'http_rate', {
      HTTP_RATE_LIMIT_PER_USER: '5',
      HTTP_RATE_LIMIT_PER_IP: '20',
    });
    pods = await Promise.all([startApp('api', env), startApp('api', env)]);
    // The limits fail open while a pod's Redis connection is not ready yet (a Redis outage must
    // not stop the API): wait until both are, so every request below is counted.
    for (const pod of pods) {
      await eventually(
        () => get(`${pod.url}/health/ready`),
        (answer) => answer.status === 200,
      );
    }
  }, 60_000);

  afterAll(async () => {
    const codes = await Promise.all((pods ?? []).map((pod) => pod.stop()));
    await schema?.drop();
    expect(codes).toEqual([0, 0]);
  });

  let address = 0;
  const nextAddress = () => `198.51.100.${++address}`;

  const call = async (
    pod: RunningProcess,
    path: string,
    { token, ip, method = 'GET' }: { token?: string; ip: string; method?: string },
  ) => {
    const response = await fetch(pod.url + path, {
      method,
      headers: {
        'x-forwarded-for': ip,
        ...(token && { authorization: `Bearer ${token}` }),
        ...(method === 'PUT' && { 'content-type': 'application/json' }),
      },
      ...(method === 'PUT' && { body: JSON.stringify({ display_name: 'Rate' }) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: text.startsWith('{') ? JSON.parse(text) : text,
    };
  };

  it('when a user spends their budget over two pods, then the next call on either is 429 with Retry-After, and another user is unaffected', async () => {
    const ip = nextAddress();
    const ann = tokens.sign(freshUserId());
    const bob = tokens.sign(freshUserId());
    const [a, b] = [pods[0]!, pods[1]!];
    expect((await call(a, '/api/users/me', { token: ann, ip, method: 'PUT' })).status).toBe(200);
    for (const pod of [b, a, b, a]) {
      expect((await call(pod, '/api/users/me', { token: ann, ip })).status).toBe(200);
    }
    for (const pod of [b, a]) {
      const limited = await call(pod, '/api/users/me', { token: ann, ip });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('RATE_LIMITED');
      const retryAfter = limited.body.error.details.retry_after;
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.retryAfter).toBe(String(retryAfter));
    }
    expect((await call(b, '/api/users/me', { token: bob, ip, method: 'PUT' })).status).toBe(200);
  });

  it('when one address floods with bad tokens, then it is limited before authentication; other addresses and the health and docs endpoints are not', async () => {
    const ip = nextAddress();
    for (let i = 0; i < 20; i++) {
      const pod = pods[i % 2]!;
      expect((await call(pod, '/api/users/me', { token: 'not-a-token', ip })).status).toBe(401);
    }
    const limited = await call(pods[1]!, '/api/users/me', { token: 'not-a-token', ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    const anonymous = await call(pods[0]!, '/api/mystery/my-matches/1', { ip });
    expect(anonymous.status).toBe(429);

    // A client's own X-Forwarded-For entry is not taken as its address: only the last hop counts.
    const spoofed = await call(pods[0]!, '/api/users/me', {
      token: 'not-a-token',
      ip: `203.0.113.99, ${ip}`,
    });
    expect(spoofed.status).toBe(429);

    const other = nextAddress();
    expect(
      (await call(pods[0]!, '/api/users/me', { token: 'not-a-token', ip: other })).status,
    ).toBe(401);
    for (const path of ['/health', '/health/live', '/metrics', '/api/openapi.json', '/api/docs']) {
      expect((await call(pods[1]!, path, { ip })).status).toBe(200);
    }
  });
});
