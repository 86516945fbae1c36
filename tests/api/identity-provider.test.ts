import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import jwt from 'jsonwebtoken';
import { connectSocket } from '@mm/client';
import { eventually } from '@mm/test-support/http';
import { startTestService, type TestService } from '@mm/test-support/embedded';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'mystery-match-api';

type Alg = 'RS256' | 'ES256' | 'RS384';

interface SigningKey {
  kid: string;
  alg: Alg;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string, alg: Alg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

/** An identity provider's key set on loopback: it publishes `keys`, and counts its fetches. */
class JwksServer {
  keys: SigningKey[] = [];
  fetches = 0;
  /** While set, every fetch answers 503, as a provider in an outage does. */
  down = false;
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((_req, res) => {
      this.fetches++;
      if (this.down) {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: this.keys.map((key) => key.jwk) }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** A token as the provider issues it (issuer, audience, an hour to live), with `claims` over it. */
function issue(key: SigningKey, claims: JWTPayload = {}, header: { alg?: string } = {}) {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: inAnHour(), ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** What REST and the handshake answer to a token: `ok` (with the caller's id) or the error code. */
async function answers(url: string, token: string) {
  const response = await fetch(`${url}/api/users/me`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'From the IdP' }),
  });
  const body = (await response.json()) as {
    id?: number;
    error?: { code: string; message: string };
  };
  const handshake = await new Promise<string>((resolve) => {
    const socket = connectSocket({ url, token });
    socket.once('connect', () => {
      socket.disconnect();
      resolve('ok');
    });
    socket.once('connect_error', (error: Error & { data?: { code?: string } }) => {
      socket.disconnect();
      resolve(error.data?.code ?? error.message);
    });
  });
  return {
    rest: body.error?.code ?? 'ok',
    message: body.error?.message,
    id: body.id,
    handshake,
  };
}

const accepted = { rest: 'ok', handshake: 'ok' };
const refused = (code: string) => ({ rest: code, handshake: code });

describe('tokens from an identity provider (JWKS), on REST and at the socket handshake', () => {
  const idp = new JwksServer();
  let api: TestService;
  let a: SigningKey;

  beforeAll(async () => {
    a = await newKey('key-a', 'RS256');
    idp.keys = [a];
    const jwksUrl = await idp.start();
    // Keys cached for long, so only a key id the cache does not know fetches them again.
    api = await startTestService('idp_tokens', {
      JWT_JWKS_URL: jwksUrl,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_CACHE_MAX_AGE_SECONDS: '600',
      JWKS_REFETCH_COOLDOWN_SECONDS: '0',
      JWT_GROUPS_CLAIM: 'groups',
      JWT_MODERATOR_GROUPS: 'mm-moderators',
      JWT_ADMIN_GROUPS: 'mm-admins,staff',
    });
  });
  afterAll(async () => {
    await api?.stop();
    await idp.stop();
  });

  it('when the provider rotates to a new key, then its tokens pass at once and the removed key fails once the set is fetched again', async () => {
    const sub = '1000001';
    expect(await answers(api.url, await issue(a, { sub }))).toMatchObject({
      ...accepted,
      id: 1000001,
    });
    const fetched = idp.fetches;

    const b = await newKey('key-b', 'RS256');
    idp.keys = [b];
    // The cached set still holds A: nothing was fetched, A still verifies.
    expect(await answers(api.url, await issue(a, { sub }))).toMatchObject(accepted);
    expect(idp.fetches).toBe(fetched);
    // B's key id is unknown: the set is fetched again there and then, and B passes first time.
    expect(await answers(api.url, await issue(b, { sub }))).toMatchObject(accepted);
    expect(idp.fetches).toBe(fetched + 1);
    // That fetch dropped A.
    expect(await answers(api.url, await issue(a, { sub }))).toMatchObject(
      refused('UNAUTHENTICATED'),
    );

    const c = await newKey('key-c', 'ES256');
    idp.keys = [b, c];
    expect(await answers(api.url, await issue(c, { sub }))).toMatchObject(accepted);
  });

  it('when a claim is wrong or missing, then REST and the handshake refuse the token with a clear code', async () => {
    const key = await newKey('key-d', 'RS256');
    idp.keys = [key];
    const sub = '1000002';
    const cases: [string, Promise<string>, string, RegExp][] = [
      [
        'another issuer',
        issue(key, { sub, iss: 'https://evil.test/' }),
        'UNAUTHENTICATED',
        /issuer/,
      ],
      ['another audience', issue(key, { sub, aud: 'another-api' }), 'UNAUTHENTICATED', /audience/],
      ['no exp', issue(key, { sub, exp: undefined }), 'UNAUTHENTICATED', /"exp"/],
      ['no sub', issue(key, {}), 'UNAUTHENTICATED', /"sub"/],
      [
        'expired',
        issue(key, { sub, exp: Math.floor(Date.now() / 1000) - 60 }),
        'TOKEN_EXPIRED',
        /expired/,
      ],
    ];
    for (const [name, token, code, message] of cases) {
      const answer = await answers(api.url, await token);
      expect({ name, ...answer }).toMatchObject({ name, ...refused(code) });
      expect({ name, message: answer.message }).toEqual({
        name,
        message: expect.stringMatching(message),
      });
    }
  });

  it('when a token is signed with an algorithm other than RS256 or ES256, then it is refused', async () => {
    const rs384 = await newKey('key-e', 'RS384');
    idp.keys = [rs384];
    const answer = await answers(api.url, await issue(rs384, { sub: '1000003' }));
    expect(answer).toMatchObject(refused('UNAUTHENTICATED'));
    expect(answer.message).toMatch(/RS256 and ES256/);
    // Nor does an HS256 token signed with something other than the service's own secret pass.
    const forged = jwt.sign(
      { sub: '1000003', exp: inAnHour(), iss: ISSUER, aud: AUDIENCE },
      'x'.repeat(32),
    );
    expect(await answers(api.url, forged)).toMatchObject(refused('UNAUTHENTICATED'));
    // An unsigned token names nobody.
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: '1000003', exp: inAnHour(), iss: ISSUER, aud: AUDIENCE }),
    ).toString('base64url')}.`;
    expect(await answers(api.url, unsigned)).toMatchObject(refused('UNAUTHENTICATED'));
  });

  it('when sub is not a user id, then it is given an internal id on first sight and keeps it', async () => {
    const key = await newKey('key-f', 'ES256');
    idp.keys = [key];
    const first = await answers(api.url, await issue(key, { sub: 'auth0|ann-8f3a' }));
    expect(first).toMatchObject(accepted);
    expect(first.id).toBeGreaterThanOrEqual(2 ** 50);
    const again = await answers(api.url, await issue(key, { sub: 'auth0|ann-8f3a' }));
    expect(again.id).toBe(first.id);
    const other = await answers(api.url, await issue(key, { sub: 'auth0|bob-11c2' }));
    expect(other).toMatchObject(accepted);
    expect(other.id).not.toBe(first.id);
    // Digits in the range external subjects are given are opaque too: never an alias of one.
    const digits = await answers(api.url, await issue(key, { sub: String(first.id) }));
    expect(digits).toMatchObject(accepted);
    expect(digits.id).not.toBe(first.id);
  });

  it('when a token names a role by claim or by group, then it carries that role; an unknown one is a user', async () => {
    const key = await newKey('key-g', 'RS256');
    idp.keys = [key];
    const target = await answers(api.url, await issue(key, { sub: '1000004' }));
    const grant = async (claims: JWTPayload) => {
      const response = await fetch(`${api.url}/api/admin/users/${target.id}/premium`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${await issue(key, { sub: '1000005', ...claims })}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ until: null }),
      });
      return response.status;
    };
    expect(await grant({ role: 'admin' })).toBe(200);
    expect(await grant({ groups: ['people', 'staff'] })).toBe(200);
    expect(await grant({ groups: 'mm-admins' })).toBe(200);
    expect(await grant({ groups: ['mm-moderators'] })).toBe(403);
    expect(await grant({ role: 'moderator', groups: ['mm-admins'] })).toBe(403);
    expect(await grant({ role: 'superuser' })).toBe(403);
    expect(await grant({})).toBe(403);
  });
});

describe('keys an identity provider removed', () => {
  const idp = new JwksServer();
  let api: TestService;

  afterAll(async () => {
    await api?.stop();
    await idp.stop();
  });

  it('when the provider removes a key, then its tokens fail once the cached set has expired', async () => {
    const old = await newKey('key-old', 'RS256');
    idp.keys = [old];
    api = await startTestService('idp_expiry', {
      JWT_JWKS_URL: await idp.start(),
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_CACHE_MAX_AGE_SECONDS: '1',
    });
    const token = await issue(old, { sub: '1000006' });
    expect(await answers(api.url, token)).toMatchObject(accepted);

    idp.keys = [await newKey('key-new', 'RS256')];
    // No fetch but by age: within a second of the last one the set is fetched again, A is gone.
    const after = await eventually(
      () => answers(api.url, token),
      (answer) => answer.rest !== 'ok' && answer.handshake !== 'ok',
      10_000,
    );
    expect(after).toMatchObject(refused('UNAUTHENTICATED'));
    expect(after.message).toMatch(/does not publish/);
  });
});

describe('an identity provider whose keys cannot be fetched', () => {
  const idp = new JwksServer();
  let api: TestService;

  afterAll(async () => {
    await api?.stop();
    await idp.stop();
  });

  it('when the key set cannot be fetched, then REST and the handshake answer UNAVAILABLE (retry), not UNAUTHENTICATED', async () => {
    const key = await newKey('key-h', 'RS256');
    idp.keys = [key];
    idp.down = true;
    api = await startTestService('idp_down', {
      JWT_JWKS_URL: await idp.start(),
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_REFETCH_COOLDOWN_SECONDS: '0',
    });
    const token = await issue(key, { sub: '1000007' });
    expect(await answers(api.url, token)).toMatchObject(refused('UNAVAILABLE'));
    idp.down = false;
    expect(await answers(api.url, token)).toMatchObject(accepted);
  });
});
