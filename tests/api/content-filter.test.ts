import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';

/** CONTENT_FILTER over REST: `refuse` answers the writer, `mask` hides the word from readers. */
describe('the content filter over REST', () => {
  const services: TestService[] = [];
  afterAll(() => Promise.all(services.map((s) => s.stop())));

  async function pairOn(mode: 'mask' | 'refuse') {
    const api = await startTestService(`content_${mode}`, {
      CONTENT_FILTER: mode,
      CONTENT_FILTER_WORDS: 'grumbleweed',
    });
    services.push(api);
    const city = `Filter ${mode}`;
    const [ann, bob] = await Promise.all([
      createUser(api.url, freshUserId(), 'Ann'),
      createUser(api.url, freshUserId(), 'Bob'),
    ]);
    await Promise.all([ann, bob].map((u) => u.rest.saveProfile({ display_name: 'Kim', city })));
    const match = await ann.rest.findMatch({ city });
    return { api, ann, bob, matchId: match.id };
  }

  const send = (api: TestService, user: TestUser, matchId: number, body: string) =>
    callJson(api.url, user.token, 'POST', '/api/mystery/send-message', {
      match_id: matchId,
      client_id: `c-${body.length}-${Date.now()}`,
      body,
    });

  it('when refusing, then a message, name or bio with a filtered word is refused with CONTENT_REFUSED and clean ones pass', async () => {
    const { api, ann, matchId } = await pairOn('refuse');
    expect(await send(api, ann, matchId, 'you grumbleweed')).toMatchObject({
      status: 400,
      body: { error: { code: 'CONTENT_REFUSED', details: { field: 'body' } } },
    });
    expect((await send(api, ann, matchId, 'hello')).status).toBe(201);
    const bio = await callJson(api.url, ann.token, 'PUT', '/api/users/me', {
      display_name: 'Ann',
      bio: 'a ｇｒｕｍｂｌｅｗｅｅｄ at heart',
    });
    expect(bio).toMatchObject({
      status: 400,
      body: { error: { code: 'CONTENT_REFUSED', details: { field: 'bio' } } },
    });
    const name = await callJson(api.url, ann.token, 'PUT', '/api/users/me', {
      display_name: 'Grumbleweed',
    });
    expect(name.body.error).toMatchObject({ details: { field: 'display_name' } });
  });

  it('when masking, then the message is accepted and every reader, the sender included, sees the word masked', async () => {
    const { api, ann, bob, matchId } = await pairOn('mask');
    const sent = await send(api, ann, matchId, 'you grumbleweed!');
    expect(sent.status).toBe(201);
    expect(sent.body.message.body).toBe('you ***!');
    const history = await callJson(api.url, bob.token, 'GET', `/api/mystery/chat/${matchId}`);
    expect(history.body.messages.map((m: { body: string }) => m.body)).toEqual(['you ***!']);
  });
});
