import sharp from 'sharp';
import { RestClient } from '@mm/client';
import type { MatchView } from '@mm/contract';
import type { DatabaseHandle } from '@mm/db';
import { openTestDatabase, setMessageCounts } from '@mm/db/testing';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/**
 * Profile photos over REST on the embedded service: upload and its refusals, and the partner's
 * photo served at the caller's unlock level — never clearer than the level allows.
 */
describe('profile photos', () => {
  let api: TestService;
  let database: DatabaseHandle;
  /**
   * A checkerboard of 100 px squares, the same bytes on every run. Its spread falls steadily as
   * the blur grows (about 103, 37 and 7 for clear, 25 % and 50 %). Random noise did not work:
   * blurred that hard it flattens to about one grey level, and WebP's rounding then decides
   * which blur looks "smoother".
   */
  let photo: Buffer;

  beforeAll(async () => {
    api = await startTestService('photos_rest', { PHOTO_MAX_BYTES: '2000000' });
    database = await openTestDatabase(api.schema, 2);
    photo = await checkerboard(1200, 900, 100);
  });
  afterAll(async () => {
    await database?.close();
    await api?.stop();
  });

  const request = async (user: TestUser | undefined, method: string, path: string, init = {}) => {
    const response = await fetch(api.url + path, {
      method,
      ...init,
      headers: {
        ...(init as { headers?: Record<string, string> }).headers,
        ...(user && { authorization: `Bearer ${user.token}` }),
      },
    });
    const type = response.headers.get('content-type') ?? '';
    const body = type.startsWith('application/json')
      ? ((await response.json()) as any)
      : Buffer.from(await response.arrayBuffer());
    return { status: response.status, type, body };
  };
  const upload = (user: TestUser, bytes: Buffer, type = 'image/jpeg') =>
    request(user, 'PUT', '/api/users/me/photo', {
      headers: { 'content-type': type },
      body: new Uint8Array(bytes),
    });
  /** Standard deviation of the first channel: lower is blurrier. */
  const spread = async (image: Buffer) => (await sharp(image).stats()).channels[0]!.stdev;

  let cityNo = 0;
  async function userWithProfile(city: string): Promise<TestUser> {
    const user = await createUser(api.url, freshUserId());
    await user.rest.saveProfile({ display_name: `user ${user.id}`, city });
    return user;
  }
  async function matchedPair() {
    const city = `Photo City ${++cityNo}`;
    const ann = await userWithProfile(city);
    const zed = await userWithProfile(city);
    const match = await ann.rest.findMatch(ann.id, { city });
    return { ann, zed, match };
  }
  const setLevelCount = (matchId: number, count: number) =>
    setMessageCounts(database.db, matchId, count);

  describe('upload', () => {
    it('when a JPEG is uploaded, then it is stored resized as WebP with no metadata', async () => {
      const ann = await userWithProfile('Photo Upload');
      expect((await upload(ann, photo)).status).toBe(200);

      const own = await request(ann, 'GET', '/api/users/me/photo');
      expect(own.status).toBe(200);
      expect(own.type).toBe('image/webp');
      const meta = await sharp(own.body as Buffer).metadata();
      expect(meta).toMatchObject({ format: 'webp', width: 1024, height: 768 });
      expect(meta.exif).toBeUndefined();
    });

    it.each([
      ['a text file', 'text/plain', Buffer.from('hello'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['not an image', 'image/png', Buffer.from('not really a png'), 400, 'INVALID_IMAGE'],
      ['empty', 'image/jpeg', Buffer.alloc(0), 400, 'INVALID_IMAGE'],
      ['over the limit', 'image/jpeg', Buffer.alloc(2_000_001, 1), 413, 'PAYLOAD_TOO_LARGE'],
    ])(
      'when the upload is %s, then it is refused with its code and nothing is stored',
      async (_what, type, bytes, status, code) => {
        const ann = await userWithProfile('Photo Refused');
        const response = await upload(ann, bytes, type);
        expect(response.status).toBe(status);
        expect(response.body.error.code).toBe(code);
        expect((await request(ann, 'GET', '/api/users/me/photo')).status).toBe(404);
      },
    );

    const small = (format: 'gif' | 'tiff' | 'png') =>
      sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
        .toFormat(format)
        .toBuffer();
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>',
    );
    const declared = ['image/png', 'image/jpeg', 'image/webp'];
    it.each(
      (['svg', 'gif', 'tiff'] as const).flatMap((format) =>
        declared.map((type) => [format, type] as const),
      ),
    )(
      'when the bytes are %s but declared %s, then it is 415 UNSUPPORTED_MEDIA_TYPE by the decoded format and nothing is stored',
      async (format, type) => {
        const bytes = format === 'svg' ? svg : await small(format);
        const ann = await userWithProfile('Photo Disguised');
        const response = await upload(ann, bytes, type);
        expect(response.status).toBe(415);
        expect(response.body.error).toMatchObject({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          details: { format, accepted: ['image/jpeg', 'image/png', 'image/webp'] },
        });
        expect((await request(ann, 'GET', '/api/users/me/photo')).status).toBe(404);
      },
    );

    it('when a PNG is declared as image/webp, then it is accepted: the decoded format is one the API names', async () => {
      const ann = await userWithProfile('Photo Mislabelled');
      expect((await upload(ann, await small('png'), 'image/webp')).status).toBe(200);
    });

    it('when a user without a profile uploads, then it is 409 PROFILE_REQUIRED', async () => {
      const id = freshUserId();
      const token = await new RestClient(api.url, () => undefined).devToken(id);
      const response = await upload(
        { id, token, rest: new RestClient(api.url, () => token) },
        photo,
      );
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('PROFILE_REQUIRED');
    });

    it('when the caller deletes their photo, then it is gone and partners see none', async () => {
      const { zed, match, ann } = await matchedPair();
      await upload(zed, photo);
      expect((await request(zed, 'DELETE', '/api/users/me/photo')).status).toBe(200);
      expect((await request(zed, 'GET', '/api/users/me/photo')).status).toBe(404);
      await setLevelCount(match.id, 60);
      const [view] = (await ann.rest.myMatches(ann.id)).filter((m) => m.id === match.id);
      expect(view!.partner.photo_url).toBeNull();
    });
  });

  describe("the partner's photo", () => {
    it('when the match climbs from level 0 to 4, then the photo is locked, then 50 % and 25 % blurred, then clear', async () => {
      const { ann, zed, match } = await matchedPair();
      await upload(zed, photo);
      const clear = (await request(zed, 'GET', '/api/users/me/photo')).body as Buffer;
      const partnerPhoto = `/api/mystery/matches/${match.id}/partner-photo`;

      for (const count of [0, 20]) {
        await setLevelCount(match.id, count);
        const locked = await request(ann, 'GET', partnerPhoto);
        expect(locked.status).toBe(403);
        expect(locked.body.error.code).toBe('PHOTO_LOCKED');
      }

      const spreads: number[] = [];
      for (const [count, level, blur] of [
        [60, 2, 50],
        [100, 3, 25],
      ] as const) {
        await setLevelCount(match.id, count);
        const view = (await ann.rest.myMatches(ann.id)).find((m) => m.id === match.id)!;
        expect(view.partner).toMatchObject({
          photo_url: `${partnerPhoto}?level=${level}`,
          photo_blur: blur,
        });
        const blurred = await request(ann, 'GET', view.partner.photo_url!);
        expect(blurred.status).toBe(200);
        expect(blurred.type).toBe('image/webp');
        expect(Buffer.compare(blurred.body as Buffer, clear)).not.toBe(0);
        spreads.push(await spread(blurred.body as Buffer));
      }
      const clearSpread = await spread(clear);
      // 50 % hides more than 25 %, and both far less than the clear photo shows.
      expect(spreads[0]!).toBeLessThan(spreads[1]!);
      expect(spreads[1]!).toBeLessThan(clearSpread / 2);

      await setLevelCount(match.id, 150);
      const full = await request(ann, 'GET', `${partnerPhoto}?level=4`);
      expect(Buffer.compare(full.body as Buffer, clear)).toBe(0);
    });

    it('when a caller asks with a higher level in the URL than they have, then they still get their own level', async () => {
      const { ann, zed, match } = await matchedPair();
      await upload(zed, photo);
      await setLevelCount(match.id, 60);
      const clear = (await request(zed, 'GET', '/api/users/me/photo')).body as Buffer;
      const asked = await request(
        ann,
        'GET',
        `/api/mystery/matches/${match.id}/partner-photo?level=4`,
      );
      expect(asked.status).toBe(200);
      expect(Buffer.compare(asked.body as Buffer, clear)).not.toBe(0);
    });

    it('when someone outside the match asks for its photo, then it is 404 whatever the level', async () => {
      const { zed, match } = await matchedPair();
      await upload(zed, photo);
      await setLevelCount(match.id, 150);
      const stranger = await userWithProfile('Photo Stranger');
      const response = await request(
        stranger,
        'GET',
        `/api/mystery/matches/${match.id}/partner-photo`,
      );
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    });

    it('when the viewer is premium, then the clear photo is served from the first message', async () => {
      const { ann, zed, match } = await matchedPair();
      await database.db
        .updateTable('users')
        .set({ is_premium: true })
        .where('id', '=', ann.id)
        .execute();
      await upload(zed, photo);
      const clear = (await request(zed, 'GET', '/api/users/me/photo')).body as Buffer;
      const [view] = (await ann.rest.myMatches(ann.id)).filter((m: MatchView) => m.id === match.id);
      expect(view!.partner).toMatchObject({ level: 4, photo_url: expect.any(String) });
      expect(view!.partner).not.toHaveProperty('photo_blur');
      const served = await request(ann, 'GET', view!.partner.photo_url!);
      expect(Buffer.compare(served.body as Buffer, clear)).toBe(0);
    });
  });
});

/** A grey checkerboard JPEG whose squares are `cell` pixels wide. */
function checkerboard(width: number, height: number, cell: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dark = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 === 0;
      const offset = (y * width + x) * 3;
      pixels.fill(dark ? 25 : 230, offset, offset + 3);
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}
