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
    const userId = typeof payload === 'object' ? Number(payload.sub) : NaN;
    if (!Number.isSafeInteger(userId) || userId <= 0) {
      throw new AppError('UNAUTHENTICATED', 'The token does not name a user.');
    }
    return userId;
  }
}
