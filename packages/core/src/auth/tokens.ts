import jwt from 'jsonwebtoken';
import { AppError } from '../errors';

const ALGORITHM = 'HS256';

/** Issues and checks the JWTs that carry identity: `sub` is the user id as a string. */
export class TokenService {
  constructor(private readonly secret: string) {}

  /** Only for development tokens and tests: production tokens come from the identity provider. */
  sign(userId: number, expiresInSeconds = 24 * 3600): string {
    return jwt.sign({}, this.secret, {
      algorithm: ALGORITHM,
      subject: String(userId),
      expiresIn: expiresInSeconds,
    });
  }

  /** The user id the token proves, or UNAUTHENTICATED (TOKEN_EXPIRED once it has expired). */
  verify(token: string | undefined): number {
    if (!token) throw new AppError('UNAUTHENTICATED', 'A bearer token is required.');
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, this.secret, { algorithms: [ALGORITHM] });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) {
        throw new AppError('TOKEN_EXPIRED', 'The token has expired.');
      }
      throw new AppError('UNAUTHENTICATED', 'The token is invalid.');
    }
    if (typeof payload !== 'object' || typeof payload.exp !== 'number') {
      // A token without an expiry would be valid forever.
      throw new AppError('UNAUTHENTICATED', 'The token has no expiry.');
    }
    const userId = canonicalUserId(payload.sub);
    if (userId === undefined) {
      throw new AppError('UNAUTHENTICATED', 'The token does not name a user.');
    }
    return userId;
  }
}

/**
 * `sub` as a user id, when it is one in canonical form: a safe positive integer, as a JSON number
 * or as its decimal digits (no sign, space, leading zero, exponent or hex). Anything `Number()`
 * would also turn into an id (`true`, `[7]`, `" 7"`, `"0x7"`, `"7.0"`) names no user.
 */
function canonicalUserId(sub: unknown): number | undefined {
  const id =
    typeof sub === 'number'
      ? sub
      : typeof sub === 'string' && /^[1-9]\d{0,15}$/.test(sub)
        ? Number(sub)
        : NaN;
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
