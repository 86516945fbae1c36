import { RestClient } from '@mm/client';
import { apiRoutes } from '@mm/api';
import { ERROR_STATUS } from '@mm/contract';
import { createUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

interface OpenApi {
  paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown }>>;
}

describe('the REST route table', () => {
  let api: TestService;

  beforeAll(async () => {
    api = await startTestService('route_table');
  });
  afterAll(() => api.stop());

  const call = (method: string, path: string, init: { token?: string; body?: unknown } = {}) =>
    fetch(api.url + path, {
      method,
      headers: {
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
        ...(init.token && { authorization: `Bearer ${init.token}` }),
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });

  it('when the OpenAPI document is read, then it describes every mounted route with its errors', async () => {
    const document = (await (await call('GET', '/api/openapi.json')).json()) as OpenApi;
    const routes = apiRoutes({ services: api.service.services, devTokens: true });
    for (const spec of routes) {
      const operation = document.paths[spec.path]?.[spec.method];
      expect(operation).toBeDefined();
      expect(Object.keys(operation!.responses)).toEqual(
        expect.arrayContaining([String(spec.status ?? 200), '429', '500']),
      );
      if (spec.auth) expect(operation!.responses['401']).toBeDefined();
    }
    const operations = Object.values(document.paths).flatMap((item) => Object.keys(item));
    expect(operations).toHaveLength(routes.length);
  });

  it('when the OpenAPI document is read, then its description lists every error code', async () => {
    const document = (await (await call('GET', '/api/openapi.json')).json()) as {
      info: { description: string };
    };
    for (const code of Object.keys(ERROR_STATUS)) {
      expect(document.info.description).toContain(`\`${code}\``);
    }
  });

  it('when the docs page is read, then it is HTML naming the routes', async () => {
    const response = await call('GET', '/api/docs');
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('/api/mystery/chat/{match_id}');
    expect(html).toContain('VALIDATION_FAILED');
  });

  it('when a field is invalid, then the answer is 400 VALIDATION_FAILED naming it', async () => {
    const ann = await createUser(api.url, 101);
    const response = await call('POST', '/api/mystery/find-match', {
      token: ann.token,
      body: { user_id: 'ann' },
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; details: unknown } };
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toEqual({ fields: [expect.objectContaining({ field: 'user_id' })] });
  });

  it('when a path or body names another user, then the answer is 403 and without a token 401', async () => {
    const ann = await createUser(api.url, 111);
    const body = await call('POST', '/api/mystery/find-match', {
      token: ann.token,
      body: { user_id: 112 },
    });
    expect(body.status).toBe(403);
    const path = await call('GET', '/api/mystery/my-matches/112', { token: ann.token });
    expect(path.status).toBe(403);
    const anonymous = await call('GET', '/api/mystery/my-matches/111');
    expect(anonymous.status).toBe(401);
    expect(await new RestClient(api.url, () => ann.token).myMatches(111)).toEqual([]);
  });

  it('when a required number is missing, then its field reads "required", not "received NaN"', async () => {
    const ann = await createUser(api.url, 121);
    const response = await call('POST', '/api/mystery/extend-match', {
      token: ann.token,
      body: {},
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { details: unknown } };
    expect(error.details).toEqual({ fields: [{ field: 'match_id', message: 'required' }] });
  });

  it('when find-match leaves user_id out, then the token says who is looking', async () => {
    const city = 'Tokenville';
    const ann = await createUser(api.url, 131);
    const bob = await createUser(api.url, 132);
    await ann.rest.saveProfile({ display_name: 'Ann', city });
    await bob.rest.saveProfile({ display_name: 'Bob', city });
    const response = await call('POST', '/api/mystery/find-match', {
      token: ann.token,
      body: { city },
    });
    expect(response.status).toBe(201);
    const { match } = (await response.json()) as { match: { partner_id: number } };
    expect(match.partner_id).toBe(bob.id);
  });

  it('when a route names the caller in its path, then its /me form answers the same for the token', async () => {
    const ann = await createUser(api.url, 141);
    for (const [seed, me] of [
      ['/api/mystery/my-matches/141', '/api/mystery/my-matches/me'],
      ['/api/mystery/stats/141', '/api/mystery/stats/me'],
    ]) {
      const byId = await call('GET', seed!, { token: ann.token });
      const byMe = await call('GET', me!, { token: ann.token });
      expect({ me, status: byMe.status }).toEqual({ me, status: byId.status });
      expect(await byMe.json()).toEqual(await byId.json());
    }
    const online = await call('GET', '/api/mystery/chat/online-status/999999/me', {
      token: ann.token,
    });
    expect(online.status).toBe(404);
    expect((await call('GET', '/api/mystery/stats/me')).status).toBe(401);
    const routes = apiRoutes({ services: api.service.services, devTokens: true });
    const paths = routes.map((spec) => spec.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/mystery/my-matches/me',
        '/api/mystery/stats/me',
        '/api/mystery/chat/online-status/{match_id}/me',
      ]),
    );
  });
});
