import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';

/**
 * Client mistakes in how a request is written, over real HTTP on the embedded service: each is a
 * 4xx with the usual error body, never a 500.
 */
describe('requests the server cannot read', () => {
  let api: TestService;
  let ann: TestUser;

  beforeAll(async () => {
    api = await startTestService('request_errors');
    ann = await createUser(api.url, freshUserId());
  });
  afterAll(async () => {
    await api?.stop();
  });

  /** One request exactly as given (no header added or normalised but Host and Content-Length). */
  const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(
        api.url + path,
        {
          method,
          headers: {
            authorization: `Bearer ${ann.token}`,
            ...headers,
            ...(body && { 'content-length': String(body.length) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const profile = Buffer.from(JSON.stringify({ display_name: 'Ann' }));

  it('when the JSON body declares a charset the server does not read, then it is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const { status, body } = await send(
      'PUT',
      '/api/users/me',
      { 'content-type': 'application/json; charset=latin-9' },
      profile,
    );
    expect(status).toBe(415);
    expect(body.error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: { charset: 'latin-9', accepted: ['utf-8'] },
    });
  });

  it('when the body has a Content-Encoding the server does not inflate, then it is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const { status, body } = await send(
      'PUT',
      '/api/users/me',
      { 'content-type': 'application/json', 'content-encoding': 'compress' },
      profile,
    );
    expect(status).toBe(415);
    expect(body.error).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: { encoding: 'compress', accepted: expect.arrayContaining(['gzip', 'identity']) },
    });
  });

  it('when a gzip body is broken, then it is 400 VALIDATION_FAILED; a sound one is read', async () => {
    const broken = gzipSync(profile).subarray(0, 12);
    const refused = await send(
      'PUT',
      '/api/users/me',
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      Buffer.concat([broken, Buffer.from('not gzip at all')]),
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');

    const sound = await send(
      'PUT',
      '/api/users/me',
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      gzipSync(profile),
    );
    expect(sound).toMatchObject({ status: 200, body: { display_name: 'Ann' } });
  });

  it('when a path parameter is not valid percent-encoding, then it is 400 VALIDATION_FAILED', async () => {
    for (const path of ['/api/mystery/my-matches/%ff', '/api/mystery/chat/%E0%A4%A']) {
      const { status, body } = await send('GET', path, {});
      expect(status).toBe(400);
      expect(body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('when the user to block does not exist, then it is 404 NOT_FOUND; without a profile of your own, 409 PROFILE_REQUIRED', async () => {
    const missing = await callJson(api.url, ann.token, 'POST', '/api/mystery/block', {
      blocked_user_id: 9_000_000_000,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');

    const id = freshUserId();
    const token = (
      await callJson(api.url, undefined, 'POST', '/api/auth/dev-token', { user_id: id })
    ).body.token as string;
    const noProfile = await callJson(api.url, token, 'POST', '/api/mystery/block', {
      blocked_user_id: ann.id,
    });
    expect(noProfile.status).toBe(409);
    expect(noProfile.body.error.code).toBe('PROFILE_REQUIRED');
  });
});
