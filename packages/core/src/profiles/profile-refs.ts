import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const PLAIN_BYTES = 16;

/**
 * What discovery calls a profile: an opaque reference valid for one viewer, never the user id.
 * A match tells each side the partner's user id; were discovery cards keyed by it, a user could
 * note the cards they scroll past and later read a new partner's age, city and interests off
 * them, ahead of the unlock levels. Per-viewer references cannot be matched to a `partner_id`.
 *
 * A reference is the pair (viewer, profile) sealed with AES-256-GCM under a key derived from the
 * server's secret; the nonce is a MAC of the pair, so one viewer always sees the same reference
 * for a profile (pages and batches agree) and nobody can forge or move one to another viewer.
 */
export class ProfileRefs {
  private readonly sealKey: Buffer;
  private readonly nonceKey: Buffer;

  constructor(secret: string) {
    const derive = (info: string) =>
      Buffer.from(hkdfSync('sha256', secret, 'mystery-match', info, 32));
    this.sealKey = derive('discovery-ref-seal');
    this.nonceKey = derive('discovery-ref-nonce');
  }

  ref(viewerId: number, profileId: number): string {
    const plain = Buffer.alloc(PLAIN_BYTES);
    plain.writeBigUInt64BE(BigInt(viewerId), 0);
    plain.writeBigUInt64BE(BigInt(profileId), 8);
    const iv = createHmac('sha256', this.nonceKey).update(plain).digest().subarray(0, IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url');
  }

  /** The profile id behind `ref`, when `viewerId` was given it; undefined otherwise. */
  resolve(viewerId: number, ref: string): number | undefined {
    const bytes = Buffer.from(ref, 'base64url');
    if (bytes.length !== IV_BYTES + PLAIN_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, bytes.subarray(0, IV_BYTES));
      decipher.setAuthTag(bytes.subarray(IV_BYTES + PLAIN_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, IV_BYTES + PLAIN_BYTES)),
        decipher.final(),
      ]);
      if (plain.readBigUInt64BE(0) !== BigInt(viewerId)) return undefined;
      return Number(plain.readBigUInt64BE(8));
    } catch {
      return undefined; // forged or damaged
    }
  }
}
