import jwt from 'jsonwebtoken';
import { connectSocket } from '@mm/client';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

const SECRET = 'a-secret-only-this-test-file-signs-with';

/** A token signed with the service's own secret, carrying exactly `claims`. */
const forge = (claims: Record<string, unknown>): string =>
  jwt.sign(claims, SECRET, { algorithm: 'HS256', noTimestamp: true });

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/**
 * What a token must carry, on REST and at the socket handshake: an expiry, and a `sub` that is a
 * user id in canonical form. A token signed with the right secret but lax claims names no one.
 */
describe('the claims of a bearer token', () => {
  let api: TestService;
  let ann: TestUser;

  beforeAll(async () => {
    api = await startTestService('token_claims', { JWT_SECRET: SECRET });
    ann = await createUser(api.url, freshUserId(), 'Ann');
  });
  afterAll(() => api?.stop());

  const me = async (token: string) => {
    const answer = await fetch(`${api.url}/api/users/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await answer.json()) as { error?: { code: string }; display_name?: string };
    return { status: answer.status, code: body.error?.code, name: body.display_name };
  };

  const handshake = (token: string) =>
    new Promise<string>((resolve) => {
      const socket = connectSocket({ url: api.url, token });
      socket.once('connect', () => {
        socket.disconnect();
        resolve('connected');
      });
      socket.once('connect_error', (error: Error & { data?: { code?: string } }) => {
        socket.disconnect();
        resolve(error.data?.code ?? error.message);
      });
    });

  const laxSubjects = (id: number): [string, unknown][] => [
    ['true', true],
    ['an array', [id]],
    ['padded with spaces', ` ${id} `],
    ['with a leading zero', `0${id}`],
    ['in hex', `0x${id.toString(16)}`],
    ['with a decimal point', `${id}.0`],
    ['with a plus sign', `+${id}`],
    ['in exponent form', `${id}e0`],
    ['zero', 0],
    ['negative', -id],
    ['a fraction', id + 0.5],
    ['past the safe integers', '9007199254740993'],
    ['an object', { id }],
  ];

  it.each(laxSubjects(7))(
    'when sub is %s, then REST and the handshake refuse the token as UNAUTHENTICATED',
    async (_name, sub) => {
      const token = forge({ sub, exp: inAnHour() });
      expect(await me(token)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
      expect(await handshake(token)).toBe('UNAUTHENTICATED');
    },
  );

  it('when a token has no exp, then REST and the handshake refuse it as UNAUTHENTICATED', async () => {
    const forever = forge({ sub: String(ann.id) });
    expect(await me(forever)).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(await handshake(forever)).toBe('UNAUTHENTICATED');
  });

  it('when sub is the id as digits or as a JSON number, with exp, then the token acts as that user', async () => {
    for (const sub of [String(ann.id), ann.id]) {
      const token = forge({ sub, exp: inAnHour() });
      expect(await me(token)).toMatchObject({ status: 200, name: 'Ann' });
      expect(await handshake(token)).toBe('connected');
    }
  });

  it('when a dev token is minted, then it carries an expiry', async () => {
    const payload = jwt.decode(ann.token) as { exp?: unknown; sub?: unknown };
    expect(payload).toMatchObject({ sub: String(ann.id), exp: expect.any(Number) });
  });
});
