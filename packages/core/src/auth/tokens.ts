import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import jwt from 'jsonwebtoken';
import { AppError, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../errors';
import { NO_GROUP_ROLES, roleOf, type Principal, type Role, type RoleMapping } from './roles';

const HS256 = 'HS256';
/** What an identity provider may sign with: RSA and P-256 signatures, nothing symmetric. */
const PROVIDER_ALGORITHMS = ['RS256', 'ES256'];
/**
 * Numeric subjects name user ids below this; ids from here up are given to the identity
 * provider's other subjects (the `external_user_ids` sequence starts here), so the two never meet.
 */
export const EXTERNAL_ID_BASE = 2 ** 50;
/** Subjects mapped to ids are remembered (the mapping never changes) up to this many. */
const SUBJECT_CACHE_SIZE = 10_000;
const MAX_SUBJECT_LENGTH = 255;

/** An OpenID Connect provider whose signed tokens the service accepts (docs/design.md §4.2.1). */
export interface IdentityProvider {
  /** Where its JSON Web Key Set is published (`jwks_uri` of its discovery document). */
  jwksUrl: string;
  /** `iss` its tokens must carry. */
  issuer: string;
  /** `aud` its tokens must carry (one of, when an array). */
  audience: string;
  /** Keys are fetched again once they are this old. */
  cacheMaxAgeMs: number;
  /** A token of a key not in the set fetches the set again, at most once in this long. */
  refetchCooldownMs: number;
}

export interface TokenOptions {
  /** Signs development tokens; verifies HS256 tokens unless `acceptHs256` is false. */
  secret: string;
  /** False where only the identity provider's tokens may be accepted. True unless said. */
  acceptHs256?: boolean;
  identityProvider?: IdentityProvider;
  roles?: RoleMapping;
  /** The internal id of a provider's non-numeric subject, given one on first sight. */
  externalUserId?: (issuer: string, subject: string) => Promise<number>;
}

/**
 * Issues development tokens and verifies bearer tokens, the one verifier REST and the socket
 * handshake share. An HS256 token is checked with the shared secret; an RS256 or ES256 token with
 * the identity provider's published keys, its issuer and audience. Either must carry `exp`; its
 * `sub` names the user (`userOf`) and its claims the role (`roleOf`).
 */
export class TokenService {
  private readonly secret: string;
  private readonly acceptHs256: boolean;
  private readonly provider?: IdentityProvider;
  private readonly keys?: ReturnType<typeof createRemoteJWKSet>;
  private readonly roles: RoleMapping;
  private readonly externalUserId?: TokenOptions['externalUserId'];
  private readonly subjects = new Map<string, number>();
  /** The shared secret as a WebCrypto key, imported once: jose verifies with it (see verifyShared). */
  private hs256Key?: Promise<webcrypto.CryptoKey>;

  constructor(options: TokenOptions | string) {
    const o = typeof options === 'string' ? { secret: options } : options;
    this.secret = o.secret;
    this.acceptHs256 = o.acceptHs256 ?? true;
    this.roles = o.roles ?? NO_GROUP_ROLES;
    this.externalUserId = o.externalUserId;
    if (o.identityProvider) {
      this.provider = o.identityProvider;
      // jose keeps the set: fetched on first use, again once older than the max age, and on a
      // key id it does not know (a rotation) unless it fetched within the cooldown.
      this.keys = createRemoteJWKSet(new URL(o.identityProvider.jwksUrl), {
        cacheMaxAge: o.identityProvider.cacheMaxAgeMs,
        cooldownDuration: o.identityProvider.refetchCooldownMs,
      });
    }
  }

  /** Only for development tokens and tests: production tokens come from the identity provider. */
  sign(userId: number, expiresInSeconds = 24 * 3600, role?: Role): string {
    return jwt.sign(role ? { role } : {}, this.secret, {
      algorithm: HS256,
      subject: String(userId),
      expiresIn: expiresInSeconds,
    });
  }

  /**
   * Who the token proves, or UNAUTHENTICATED saying why (TOKEN_EXPIRED once it has expired);
   * UNAVAILABLE while the identity provider's keys cannot be fetched.
   */
  async verify(token: string | undefined): Promise<Principal> {
    if (!token) throw new AppError('UNAUTHENTICATED', 'A bearer token is required.');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new AppError('UNAUTHENTICATED', 'The token is invalid.');
    }
    if (alg === HS256 && this.acceptHs256) return await this.verifyShared(token);
    if (this.provider && typeof alg === 'string' && alg !== HS256) {
      return this.verifyFromProvider(token, this.provider);
    }
    // The header is the sender's: named back only when it is a short algorithm name.
    const named =
      typeof alg === 'string' && /^[A-Za-z0-9]{1,16}$/.test(alg) ? alg : 'that algorithm';
    throw new AppError('UNAUTHENTICATED', `Tokens signed with ${named} are not accepted.`);
  }

  /**
   * Verified with jose and a key imported once, not with jsonwebtoken's `verify`, which cost about
   * 400 µs of CPU a token here against 30 to 60: every handshake verifies one, and after a gateway
   * pod dies all of its clients' handshakes come at once (benchmarks.md, "A reconnect storm").
   */
  private async verifyShared(token: string): Promise<Principal> {
    this.hs256Key ??= webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(this.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.hs256Key, { algorithms: [HS256] }));
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_JWT_EXPIRED') {
        throw new AppError('TOKEN_EXPIRED', 'The token has expired.');
      }
      throw new AppError('UNAUTHENTICATED', 'The token is invalid.');
    }
    if (typeof payload.exp !== 'number') {
      // A token without an expiry would be valid forever.
      throw new AppError('UNAUTHENTICATED', 'The token has no expiry.');
    }
    const userId = canonicalUserId(payload.sub);
    if (userId === undefined) {
      throw new AppError('UNAUTHENTICATED', 'The token does not name a user.');
    }
    return { userId, role: roleOf(payload, this.roles) };
  }

  private async verifyFromProvider(token: string, provider: IdentityProvider): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys!, {
        issuer: provider.issuer,
        audience: provider.audience,
        algorithms: PROVIDER_ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw providerRefusal(error);
    }
    return {
      userId: await this.userOf(payload.sub, provider.issuer),
      role: roleOf(payload, this.roles),
    };
  }

  /**
   * The rule that maps a provider's `sub` to a user id (docs/decisions.md): a subject in canonical
   * decimal form below `EXTERNAL_ID_BASE` is the user id itself, as for HS256 tokens; any other
   * subject is opaque and gets an id of its own the first time it is seen (`externalUserId`).
   */
  private async userOf(sub: unknown, issuer: string): Promise<number> {
    const numeric = canonicalUserId(sub);
    if (numeric !== undefined) return numeric;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
      throw new AppError('UNAUTHENTICATED', 'The token does not name a user.');
    }
    const key = `${issuer}\n${sub}`;
    const known = this.subjects.get(key);
    if (known !== undefined) return known;
    if (!this.externalUserId) {
      throw new AppError('UNAUTHENTICATED', 'The token does not name a user id.');
    }
    const id = await this.externalUserId(issuer, sub);
    if (this.subjects.size >= SUBJECT_CACHE_SIZE) this.subjects.clear();
    this.subjects.set(key, id);
    return id;
  }
}

/** Why jose refused a provider's token, as the service's error. */
function providerRefusal(error: unknown): AppError {
  const code = (error as { code?: unknown }).code;
  const refuse = (message: string) => new AppError('UNAUTHENTICATED', message);
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new AppError('TOKEN_EXPIRED', 'The token has expired.');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': {
      const { claim, reason } = error as { claim?: string; reason?: string };
      if (reason === 'missing') return refuse(`The token has no "${claim}" claim.`);
      if (claim === 'iss') return refuse('The token was issued by another issuer.');
      if (claim === 'aud') return refuse('The token is meant for another audience.');
      return refuse(`The token's "${claim}" claim does not verify.`);
    }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return refuse(
        `Only ${PROVIDER_ALGORITHMS.join(' and ')} tokens of the identity provider are accepted.`,
      );
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return refuse('The token is signed with a key the identity provider does not publish.');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return refuse('The token signature does not verify.');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return keysUnavailable();
    default:
      // Not jose's own error: the key set could not be fetched at all (connection refused).
      return typeof code === 'string' && code.startsWith('ERR_J')
        ? refuse('The token is invalid.')
        : keysUnavailable();
  }
}

const keysUnavailable = () =>
  new AppError(
    'UNAVAILABLE',
    "The identity provider's keys cannot be fetched; try again shortly.",
    {
      retry_after: UNAVAILABLE_RETRY_AFTER_SECONDS,
    },
  );

/**
 * `sub` as a user id, when it is one in canonical form: a positive integer below
 * `EXTERNAL_ID_BASE`, as a JSON number or as its decimal digits (no sign, space, leading zero,
 * exponent or hex). Anything `Number()` would also turn into an id (`true`, `[7]`, `" 7"`,
 * `"0x7"`, `"7.0"`) names no user.
 */
function canonicalUserId(sub: unknown): number | undefined {
  const id =
    typeof sub === 'number'
      ? sub
      : typeof sub === 'string' && /^[1-9]\d{0,15}$/.test(sub)
        ? Number(sub)
        : NaN;
  return Number.isSafeInteger(id) && id > 0 && id < EXTERNAL_ID_BASE ? id : undefined;
}
