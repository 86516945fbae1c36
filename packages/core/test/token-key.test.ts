import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { TokenService } from '../src/auth/tokens';

describe('shared-secret tokens', () => {
  it('when the secret verifies many tokens, then each is checked on its own signature and expiry', async () => {
    const tokens = new TokenService('a-shared-secret-that-is-long-enough-for-hs256');
    const other = new TokenService('another-secret-that-is-long-enough-for-hs256');
    expect(await tokens.verify(tokens.sign(7))).toEqual({ userId: 7, role: 'user' });
    expect(await tokens.verify(tokens.sign(8, 60, 'moderator'))).toEqual({
      userId: 8,
      role: 'moderator',
    });
    await expect(tokens.verify(other.sign(7))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(tokens.verify(tokens.sign(7, -10))).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    });
  });

  it('when the configured secret is a public key, then HS256 tokens made with it are refused, as jsonwebtoken refuses them', async () => {
    const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const tokens = new TokenService(publicKey);
    const forged = jwt.sign({}, publicKey, { algorithm: 'HS256', subject: '7', expiresIn: 60 });
    await expect(tokens.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
