import type { ChatSocket } from '@mm/client';
import type { DatabaseHandle } from '@mm/db';
import { openTestDatabase } from '@mm/db/testing';
import { connect, createUser, freshUserId, nextEvent, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';

/**
 * `DELETE /api/users/delete-account` on the embedded service and a real Postgres: what is erased,
 * what is kept, who hears about it, and that the deleted account's token can no longer act.
 */
describe('account deletion', () => {
  let api: TestService;
  let database: DatabaseHandle;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    api = await startTestService('account_deletion');
    database = await openTestDatabase(api.schema, 2);
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await database?.close();
    await api?.stop();
  });

  const call = (user: TestUser, method: string, path: string, body?: unknown) =>
    callJson(api.url, user.token, method, path, body);

  let cityNo = 0;
  async function userIn(city: string): Promise<TestUser> {
    const user = await createUser(api.url, freshUserId());
    await user.rest.saveProfile({
      display_name: `Person ${user.id}`,
      gender: 'female',
      birth_date: '1990-02-03',
      city,
      interests: ['music'],
      bio: 'likes long walks',
      photo_url: 'https://example.com/p.jpg',
    });
    return user;
  }

  /** Ann matched with Bob and with Cid (two live matches), messages both ways, Ann blocked Dee. */
  async function annWithMatches() {
    const city = `Deletion City ${++cityNo}`;
    const ann = await userIn(city);
    const bob = await userIn(city);
    const withBob = await ann.rest.findMatch(ann.id, { city });
    const cid = await userIn(city);
    const withCid = await ann.rest.findMatch(ann.id, { city });
    const dee = await createUser(api.url, freshUserId());
    await ann.rest.block(dee.id);
    await dee.rest.block(ann.id);
    await ann.rest.sendMessage({ match_id: withBob.id, client_id: 'a1', body: 'hi Bob' });
    await bob.rest.sendMessage({ match_id: withBob.id, client_id: 'b1', body: 'hi Ann' });
    const report = await ann.rest.report({ match_id: withBob.id, reason: 'spam' });
    return { city, ann, bob, cid, dee, withBob, withCid, report };
  }

  it('when a user deletes their account, then the profile is erased, their matches end for both and what remains no longer names them', async () => {
    const { ann, bob, cid, dee, withBob, withCid, report } = await annWithMatches();
    const photo = Buffer.from('not really a jpeg');
    await database.db
      .insertInto('user_photos')
      .values({
        user_id: ann.id,
        content_type: 'image/jpeg',
        clear: photo,
        blur_50: photo,
        blur_25: photo,
        width: 1,
        height: 1,
      })
      .execute();
    const bobSocket = await connect(api.url, bob);
    const cidSocket = await connect(api.url, cid);
    sockets.push(bobSocket, cidSocket);
    const bobHears = nextEvent(bobSocket, 'match:ended');
    const cidHears = nextEvent(cidSocket, 'match:ended');

    const { status, body } = await call(ann, 'DELETE', '/api/users/delete-account');
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true });
    expect(await bobHears).toEqual({ match_id: withBob.id, reason: 'unmatched' });
    expect(await cidHears).toEqual({ match_id: withCid.id, reason: 'unmatched' });

    const row = await database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', ann.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      display_name: 'Deleted user',
      email: null,
      gender: null,
      birth_date: null,
      city: null,
      interests: [],
      bio: null,
      photo_url: null,
      deleted_at: expect.any(Date),
    });
    const photos = await database.db
      .selectFrom('user_photos')
      .select('user_id')
      .where('user_id', '=', ann.id)
      .execute();
    expect(photos).toEqual([]);
    const matches = await database.db
      .selectFrom('matches')
      .select(['id', 'status', 'ended_by'])
      .where('id', 'in', [withBob.id, withCid.id])
      .execute();
    expect(matches).toEqual(
      expect.arrayContaining([
        { id: withBob.id, status: 'unmatched', ended_by: ann.id },
        { id: withCid.id, status: 'unmatched', ended_by: ann.id },
      ]),
    );
    const messages = await database.db
      .selectFrom('messages')
      .select(['client_id', 'sender_id', 'body'])
      .where('match_id', '=', withBob.id)
      .orderBy('seq')
      .execute();
    expect(messages).toEqual([
      { client_id: 'a1', sender_id: null, body: 'hi Bob' },
      { client_id: 'b1', sender_id: bob.id, body: 'hi Ann' },
    ]);
    const blocks = await database.db
      .selectFrom('blocks')
      .select(['blocker_id', 'blocked_id'])
      .where((eb) => eb.or([eb('blocker_id', '=', ann.id), eb('blocked_id', '=', ann.id)]))
      .execute();
    expect(blocks).toEqual([{ blocker_id: dee.id, blocked_id: ann.id }]);
    const reports = await database.db
      .selectFrom('reports')
      .select(['id', 'reporter_id'])
      .where('id', '=', report.id)
      .execute();
    expect(reports).toEqual([{ id: report.id, reporter_id: ann.id }]);
    // Bob's history still reads, without Ann's id on her message.
    const history = await bob.rest.history(withBob.id);
    expect(history.messages.map((m) => m.sender_id)).toEqual([null, bob.id]);
    const bobsMatches = await bob.rest.myMatches(bob.id);
    expect(bobsMatches.find((m) => m.id === withBob.id)).toMatchObject({ status: 'unmatched' });
  });

  it('when a deleted account calls anything, reads included, then it is 410 ACCOUNT_DELETED; a second deletion is 200', async () => {
    const { city, ann, bob, withBob } = await annWithMatches();
    const ref = api.service.services.profileRefs.ref(ann.id, bob.id);
    const annSocket = await connect(api.url, ann);
    sockets.push(annSocket);
    const closed = new Promise((resolve) => annSocket.once('disconnect', resolve));
    await ann.rest.deleteAccount();
    // Her open sockets are closed by the server at once, not left until they drop.
    expect(await closed).toBe('io server disconnect');
    const refused = [
      await call(ann, 'PUT', '/api/users/me', { display_name: 'Back again' }),
      await call(ann, 'POST', '/api/mystery/find-match', { user_id: ann.id, city }),
      await call(ann, 'POST', '/api/mystery/send-message', {
        match_id: withBob.id,
        client_id: 'late',
        body: 'still here?',
      }),
      await call(ann, 'POST', '/api/mystery/block', { blocked_user_id: 1 }),
      await call(ann, 'POST', '/api/mystery/report', { match_id: withBob.id, reason: 'spam' }),
      // Nor may it read what it saw as a user: its ended matches, their history, discovery.
      await call(ann, 'GET', '/api/users/me'),
      await call(ann, 'GET', `/api/mystery/my-matches/${ann.id}`),
      await call(ann, 'GET', `/api/mystery/chat/${withBob.id}`),
      await call(ann, 'GET', `/api/mystery/stats/${ann.id}`),
      await call(ann, 'GET', `/api/v1/matching/profiles/scroll?city=${encodeURIComponent(city)}`),
      await call(ann, 'GET', `/api/v1/matching/profiles/batch?profile_ids=${ref}`),
      await call(ann, 'GET', `/api/mystery/matches/${withBob.id}/partner-photo`),
    ];
    for (const { status, body } of refused) {
      expect(status).toBe(410);
      expect(body.error.code).toBe('ACCOUNT_DELETED');
    }
    // Nor may it open a socket.
    const refusal = await connect(api.url, ann).then(
      (socket) => {
        socket.disconnect();
        return 'connected';
      },
      (error: { data?: { code?: string } }) => error.data?.code,
    );
    expect(refusal).toBe('ACCOUNT_DELETED');
    const again = await call(ann, 'DELETE', '/api/users/delete-account', { user_id: ann.id });
    expect(again).toEqual({ status: 200, body: { ok: true } });
    const row = await database.db
      .selectFrom('users')
      .select(['display_name', 'city'])
      .where('id', '=', ann.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ display_name: 'Deleted user', city: null });
  });

  it('when a deleted user is looked for, then neither find-match nor discovery offers them', async () => {
    const city = `Deletion City ${++cityNo}`;
    const gone = await userIn(city);
    const seeker = await userIn(city);
    await gone.rest.deleteAccount();
    const { status, body } = await call(seeker, 'POST', '/api/mystery/find-match', {
      user_id: seeker.id,
      city,
    });
    expect(status).toBe(404);
    expect(body.error.code).toBe('NO_CANDIDATES');
    // The seeker's own ref for them (what a card seen before the deletion carried).
    const ref = api.service.services.profileRefs.ref(seeker.id, gone.id);
    expect(await seeker.rest.profilesBatch([ref])).toEqual([]);
  });

  it('when the request names another user, then it is 403 and nothing is deleted', async () => {
    const city = `Deletion City ${++cityNo}`;
    const [ann, bob] = [await userIn(city), await userIn(city)];
    const byQuery = await call(ann, 'DELETE', `/api/users/delete-account?user_id=${bob.id}`);
    const byBody = await call(ann, 'DELETE', '/api/users/delete-account', { user_id: bob.id });
    expect([byQuery.status, byBody.status]).toEqual([403, 403]);
    const rows = await database.db
      .selectFrom('users')
      .select('deleted_at')
      .where('id', 'in', [ann.id, bob.id])
      .execute();
    expect(rows).toEqual([{ deleted_at: null }, { deleted_at: null }]);
  });
});
