import sharp from 'sharp';
import {
  createUser,
  freshUserId,
  moderatorToken,
  usersInCity,
  type TestUser,
} from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';

/**
 * Profile verification with AUTO_APPROVE_PROFILES off (the scaled default): new and changed
 * profiles wait in the moderators' review queue, only approved ones are matched, and a rejected
 * profile's owner sees why.
 */
describe('the profile review queue', () => {
  let api: TestService;
  let moderator: string;

  beforeAll(async () => {
    api = await startTestService('profile_review', { AUTO_APPROVE_PROFILES: 'false' });
    moderator = await moderatorToken(api.url);
  });
  afterAll(() => api?.stop());

  const desk = (method: string, path: string, body?: unknown) =>
    callJson(api.url, moderator, method, path, body);
  const me = async (user: TestUser) =>
    (await callJson(api.url, user.token, 'GET', '/api/users/me')).body;
  const approve = (user: TestUser) =>
    desk('POST', `/api/moderation/profiles/${user.id}/approve`, { reason: 'looks fine' });
  /** Every pending profile, through the keyset pages one at a time. */
  async function queue(): Promise<number[]> {
    const ids: number[] = [];
    let after: string | null | undefined;
    do {
      const page = await desk(
        'GET',
        `/api/moderation/profiles?limit=1${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      );
      expect(page.status).toBe(200);
      ids.push(...page.body.profiles.map((p: { user_id: number }) => p.user_id));
      after = page.body.next_after;
    } while (after);
    return ids;
  }

  let cityNo = 0;
  async function usersIn(count: number) {
    const city = `Review City ${++cityNo}`;
    return { city, users: await usersInCity(api.url, city, count) };
  }

  it('when a profile is new, then it waits in the queue and is not matched until a moderator approves it', async () => {
    const {
      city,
      users: [ann, bob],
    } = await usersIn(2);
    expect(await me(ann!)).toMatchObject({ verification_status: 'pending' });
    expect(await queue()).toEqual(expect.arrayContaining([ann!.id, bob!.id]));

    expect((await approve(ann!)).body).toEqual({
      user_id: ann!.id,
      verification_status: 'approved',
      verification_note: null,
    });
    const early = await callJson(api.url, ann!.token, 'POST', '/api/mystery/find-match', { city });
    expect(early.body.error?.code).toBe('NO_CANDIDATES');

    await approve(bob!);
    const matched = await callJson(api.url, ann!.token, 'POST', '/api/mystery/find-match', {
      city,
    });
    expect(matched.body.match.partner_id).toBe(bob!.id);
    expect(await queue()).not.toEqual(expect.arrayContaining([ann!.id]));
  });

  it('when an approved profile changes its bio, then it is pending again; rejected, its owner sees the reason; changed again, the reason goes', async () => {
    const {
      users: [ann],
    } = await usersIn(1);
    await approve(ann!);
    await ann!.rest.saveProfile({ display_name: `user ${ann!.id}`, bio: 'call me at five' });
    expect(await me(ann!)).toMatchObject({ verification_status: 'pending' });

    const rejected = await desk('POST', `/api/moderation/profiles/${ann!.id}/reject`, {
      reason: 'No contact details in the bio, please.',
    });
    expect(rejected.status).toBe(200);
    expect(await me(ann!)).toMatchObject({
      verification_status: 'rejected',
      verification_note: 'No contact details in the bio, please.',
    });
    const again = await desk('POST', `/api/moderation/profiles/${ann!.id}/approve`, {
      reason: 'x',
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'PROFILE_NOT_PENDING' } } });

    await ann!.rest.saveProfile({ display_name: `user ${ann!.id}`, bio: 'I like hiking' });
    expect(await me(ann!)).toMatchObject({
      verification_status: 'pending',
      verification_note: null,
    });
  });

  it('when an approved profile changes only its city or uploads a photo, then the city keeps it approved and the photo sends it back to review', async () => {
    const {
      users: [ann],
    } = await usersIn(1);
    await approve(ann!);
    await ann!.rest.saveProfile({ display_name: `user ${ann!.id}`, city: 'Elsewhere' });
    expect(await me(ann!)).toMatchObject({ verification_status: 'approved' });

    const photo = await sharp({
      create: { width: 16, height: 16, channels: 3, background: { r: 10, g: 120, b: 30 } },
    })
      .png()
      .toBuffer();
    const upload = await fetch(`${api.url}/api/users/me/photo`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ann!.token}`, 'content-type': 'image/png' },
      body: new Uint8Array(photo),
    });
    expect(upload.status).toBe(200);
    expect(await me(ann!)).toMatchObject({ verification_status: 'pending' });
  });

  it('when profiles are created in the same moment, then the queue pages through each exactly once', async () => {
    const made = await Promise.all([1, 2, 3].map(() => createUser(api.url, freshUserId())));
    const ids = await queue();
    for (const user of made) expect(ids.filter((id) => id === user.id)).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('when a cursor is not one the queue gave, then it is 400 VALIDATION_FAILED', async () => {
    const answer = await desk('GET', '/api/moderation/profiles?after=garbage');
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });
});
