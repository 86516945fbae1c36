import { ApiError, RestClient } from '@mm/client';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/**
 * The SDK's RestClient against the embedded service: it names the caller by the token alone
 * (the `/me` paths, no `user_id` in bodies), and takes the token from an async getter asked
 * before every request, as an app refreshing an expiring token would give it.
 */
describe('RestClient as the caller named by the token', () => {
  let api: TestService;
  let ann: TestUser;
  let bob: TestUser;
  const city = 'Token City';

  beforeAll(async () => {
    api = await startTestService('rest_client');
    [ann, bob] = await Promise.all([
      createUser(api.url, freshUserId()),
      createUser(api.url, freshUserId()),
    ]);
    for (const user of [ann, bob])
      await user.rest.saveProfile({ display_name: `user ${user.id}`, city });
  });
  afterAll(async () => {
    await api?.stop();
  });

  it('when the token comes from an async getter, then every request asks it again and find-match, my-matches, stats and online-status need no user id', async () => {
    const asked: string[] = [];
    const rest = new RestClient(api.url, async () => {
      await Promise.resolve();
      asked.push('token');
      return ann.token;
    });

    const match = await rest.findMatch({ city });
    expect(match.partner).toBeDefined();
    expect((await rest.myMatches()).map((m) => m.id)).toContain(match.id);
    expect(await rest.stats()).toMatchObject({ matches_today: 1 });
    expect(await rest.onlineStatus(match.id)).toMatchObject({ user_id: bob.id });
    expect(asked).toHaveLength(4);
  });

  it('when the getter has no token, then the request goes without one and is 401', async () => {
    const rest = new RestClient(api.url, async () => undefined);
    const refused = await rest.myMatches().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(401);
  });
});
