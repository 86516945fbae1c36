import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@mm/platform';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { callJson } from '@mm/test-support/http';
import { openTestServices, type TestServices } from '@mm/test-support/services';
import { apiRoutes, createApi } from '../src';

/**
 * `createApi(deps)` in this process on a test schema of its own: no gateway, no Redis, no child
 * process, so the route table's mounting, its error mapping and its auth are checked in a second.
 * (tests/api drives the whole embedded service; these are the fast ones beside it.)
 */
describe('createApi', () => {
  let domain: TestServices;
  let server: Server;
  let url: string;
  let ann: TestUser;

  beforeAll(async () => {
    domain = await openTestServices('api_local');
    const logger = createLogger({ level: 'silent', name: 'api_local' });
    server = createServer(createApi({ services: domain.services, logger, devTokens: true }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ann = await createUser(url, freshUserId(), 'Ann');
  });

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await domain?.close();
  });

  it('when any route that needs a token is called without one, then it is mounted and answers 401 UNAUTHENTICATED', async () => {
    const guarded = apiRoutes({ services: domain.services, devTokens: true }).filter(
      (spec) => spec.auth,
    );
    expect(guarded.length).toBeGreaterThan(10);
    for (const spec of guarded) {
      const path = spec.path.replace(/\{[^}]+\}/g, '1');
      const answer = await callJson(url, undefined, spec.method.toUpperCase(), path);
      expect({ route: `${spec.method} ${spec.path}`, status: answer.status }).toEqual({
        route: `${spec.method} ${spec.path}`,
        status: 401,
      });
      expect(answer.body.error.code).toBe('UNAUTHENTICATED');
    }
  });

  it('when a token does not verify, then 401 UNAUTHENTICATED; when it does, then the caller is its subject (their own profile)', async () => {
    const forged = await callJson(url, `${ann.token}x`, 'GET', '/api/users/me');
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('UNAUTHENTICATED');

    const own = await callJson(url, ann.token, 'GET', '/api/users/me');
    expect(own.status).toBe(200);
    expect(own.body.display_name).toBe('Ann');
  });

  it("when a caller names another user's matches, then 403 FORBIDDEN in the error body", async () => {
    const answer = await callJson(url, ann.token, 'GET', `/api/mystery/my-matches/${ann.id + 1}`);
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 'FORBIDDEN', message: expect.any(String) });
  });

  it('when a body fails its schema, then 400 VALIDATION_FAILED names the field', async () => {
    const answer = await callJson(url, undefined, 'POST', '/api/auth/dev-token', {
      user_id: 'ann',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(answer.body.error.details)).toContain('user_id');
  });

  it('when a path is in no route, then 404 NOT_FOUND in the usual error body', async () => {
    const answer = await callJson(url, ann.token, 'GET', '/api/no-such-route');
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String) });
  });

  it('when the domain throws, then the answer carries its code and status (an unknown user: 404)', async () => {
    const stranger = await callJson(url, undefined, 'POST', '/api/auth/dev-token', {
      user_id: freshUserId(),
    });
    const answer = await callJson(url, stranger.body.token, 'GET', '/api/users/me');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('NOT_FOUND');
  });
});
