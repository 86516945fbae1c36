import { ApiError, type ChatSocket } from '@mm/client';
import type { DatabaseHandle } from '@mm/db';
import { openTestDatabase } from '@mm/db/testing';
import {
  connect,
  createUser,
  freshUserId,
  nextEvent,
  usersInCity,
  type TestUser,
} from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { eventually } from '@mm/test-support/http';

/**
 * The match lifecycle over REST on the embedded service (real API, gateway, sockets and
 * Postgres): the status codes and bodies of each endpoint, its realtime side effects, and who
 * may call it.
 */
describe('the match lifecycle over REST', () => {
  let api: TestService;
  let database: DatabaseHandle;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    api = await startTestService('lifecycle_rest');
    database = await openTestDatabase(api.schema, 2);
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await database?.close();
    await api?.stop();
  });

  const call = async (user: TestUser | undefined, method: string, path: string, body?: unknown) => {
    const response = await fetch(api.url + path, {
      method,
      headers: {
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(user && { authorization: `Bearer ${user.token}` }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  let cityNo = 0;
  /** Users in a city of their own, so a test's find-match only meets its own users. */
  async function usersIn(count: number): Promise<{ city: string; users: TestUser[] }> {
    const city = `Rest City ${++cityNo}`;
    return { city, users: await usersInCity(api.url, city, count) };
  }

  async function matchedPair() {
    const {
      city,
      users: [ann, bob],
    } = await usersIn(2);
    const match = await ann!.rest.findMatch(ann!.id, { city });
    return { ann: ann!, bob: bob!, match, city };
  }

  it('when a free user finds a fourth match in a day, then it is 429 DAILY_LIMIT_REACHED with resets_at', async () => {
    const {
      city,
      users: [me],
    } = await usersIn(5);
    for (let i = 0; i < 3; i++) {
      const { status } = await call(me, 'POST', '/api/mystery/find-match', {
        user_id: me!.id,
        city,
      });
      expect(status).toBe(201);
    }
    const { status, body } = await call(me, 'POST', '/api/mystery/find-match', {
      user_id: me!.id,
      city,
    });
    expect(status).toBe(429);
    expect(body.error).toMatchObject({
      code: 'DAILY_LIMIT_REACHED',
      details: { limit: 3, resets_at: expect.stringMatching(/T00:00:00\.000Z$/) },
    });
    const stats = await me!.rest.stats(me!.id);
    expect(stats).toMatchObject({ matches_today: 3, remaining_today: 0, daily_limit: 3 });
  });

  it('when the filters contradict each other, then it is 400 naming min_age', async () => {
    const ann = await createUser(api.url, freshUserId());
    const { status, body } = await call(ann, 'POST', '/api/mystery/find-match', {
      user_id: ann.id,
      min_age: 40,
      max_age: 30,
    });
    expect(status).toBe(400);
    expect(body.error.details.fields).toEqual([expect.objectContaining({ field: 'min_age' })]);
  });

  it('when a message is sent over REST and sent again, then it is 201 then 200 with the same message, delivered live', async () => {
    const { ann, bob, match } = await matchedPair();
    const bobSocket = await connect(api.url, bob);
    sockets.push(bobSocket);
    const delivered = nextEvent(bobSocket, 'message:new');
    const request = { match_id: match.id, client_id: 'rest-1', body: ' hi over REST ' };

    const first = await call(ann, 'POST', '/api/mystery/send-message', request);
    const again = await call(ann, 'POST', '/api/mystery/send-message', request);

    expect(first.status).toBe(201);
    expect(first.body.message).toMatchObject({ seq: 1, sender_id: ann.id, body: 'hi over REST' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await delivered).toEqual(first.body.message);
  });

  it('when a match expires, then sends fail at once and the sweep tells both sockets it ended', async () => {
    const { ann, bob, match } = await matchedPair();
    const annSocket = await connect(api.url, ann);
    const bobSocket = await connect(api.url, bob);
    sockets.push(annSocket, bobSocket);
    await database.db
      .updateTable('matches')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', match.id)
      .execute();

    const late = await call(bob, 'POST', '/api/mystery/send-message', {
      match_id: match.id,
      client_id: 'late',
      body: 'still there?',
    });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('MATCH_NOT_ACTIVE');

    const heard = [nextEvent(annSocket, 'match:ended'), nextEvent(bobSocket, 'match:ended')];
    await api.service.services.sweeper.sweep();
    expect(await Promise.all(heard)).toEqual([
      { match_id: match.id, reason: 'expired' },
      { match_id: match.id, reason: 'expired' },
    ]);
    expect((await ann.rest.myMatches(ann.id)).find((m) => m.id === match.id)?.status).toBe(
      'expired',
    );
  });

  it("when the partner is connected or not, then online-status tells the caller the partner's presence", async () => {
    const { ann, bob, match } = await matchedPair();
    const before = await ann.rest.onlineStatus(match.id, ann.id);
    expect(before).toMatchObject({ user_id: bob.id, online: false });

    const bobSocket = await connect(api.url, bob);
    sockets.push(bobSocket);
    await eventually(
      () => ann.rest.onlineStatus(match.id, ann.id),
      (status) => status.online,
    );
    bobSocket.disconnect();
    const after = await eventually(
      () => ann.rest.onlineStatus(match.id, ann.id),
      (status) => !status.online,
    );
    expect(after.last_seen_at).not.toBeNull();
  });

  it('when a user reports their partner over REST, then it is 201 with the evidence counted', async () => {
    const { ann, bob, match } = await matchedPair();
    await bob.rest.sendMessage({ match_id: match.id, client_id: 'x1', body: 'something rude' });
    const report = await ann.rest.report({
      match_id: match.id,
      reason: 'harassment',
      reported_user_id: bob.id,
    });
    expect(report).toMatchObject({
      match_id: match.id,
      reported_user_id: bob.id,
      status: 'open',
      evidence_count: 1,
    });
  });

  it('when a stranger calls any lifecycle endpoint on a match, then it is 404; a user id not theirs is 403', async () => {
    const { ann, match } = await matchedPair();
    const eve = await createUser(api.url, freshUserId(), 'Eve');
    const onMatch: [string, string, unknown?][] = [
      ['POST', '/api/mystery/extend-match', { match_id: match.id }],
      ['POST', '/api/mystery/unmatch', { match_id: match.id }],
      ['POST', '/api/mystery/request-secret-chat', { match_id: match.id }],
      ['POST', `/api/mystery/accept-secret-chat/${match.id}`],
      ['POST', '/api/mystery/send-message', { match_id: match.id, client_id: 'e', body: 'hi' }],
      ['POST', '/api/mystery/report', { match_id: match.id, reason: 'spam' }],
      ['GET', `/api/mystery/chat/online-status/${match.id}/${eve.id}`],
    ];
    for (const [method, path, body] of onMatch) {
      const answer = await call(eve, method, path, body);
      expect([path, answer.status, answer.body.error?.code]).toEqual([path, 404, 'NOT_FOUND']);
    }
    const asAnn: [string, string, unknown?][] = [
      ['POST', '/api/mystery/extend-match', { user_id: ann.id, match_id: match.id }],
      ['POST', '/api/mystery/unmatch', { user_id: ann.id, match_id: match.id }],
      ['POST', '/api/mystery/block', { user_id: ann.id, blocked_user_id: eve.id }],
      ['POST', '/api/mystery/unblock', { user_id: ann.id, blocked_user_id: eve.id }],
      ['POST', '/api/mystery/report', { user_id: ann.id, match_id: match.id, reason: 'spam' }],
      ['GET', `/api/mystery/stats/${ann.id}`],
      ['GET', `/api/mystery/chat/online-status/${match.id}/${ann.id}`],
    ];
    for (const [method, path, body] of asAnn) {
      const answer = await call(eve, method, path, body);
      expect([path, answer.status, answer.body.error?.code]).toEqual([path, 403, 'FORBIDDEN']);
    }
    for (const [method, path, body] of [...onMatch, ...asAnn]) {
      const answer = await call(undefined, method, path, body);
      expect([path, answer.status]).toEqual([path, 401]);
    }
    // Nothing above changed the match.
    expect((await ann.rest.myMatches(ann.id)).find((m) => m.id === match.id)).toMatchObject({
      status: 'active',
      extended_count: 0,
      secret_chat: 'none',
    });
  });

  it('when the requester tries to accept their own secret chat request, then it is 409', async () => {
    const { ann, match } = await matchedPair();
    await ann.rest.requestSecretChat(match.id);
    const error = await ann.rest.acceptSecretChat(match.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, error: { code: 'SECRET_CHAT_NOT_REQUESTED' } });
  });
});
