import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { entitlementEvent } from '@mm/contract';
import { recordEntitlementEvent, setPremiumUntil, type Database } from '@mm/db';
import { AppError } from '../errors';

/** How far a webhook's timestamp may be from our clock, either way. */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;
/** The header a signed webhook carries: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'x-entitlements-signature';

export interface PremiumState {
  user_id: number;
  is_premium: boolean;
  premium_until: string | null;
}

/**
 * Premium granted until an instant or revoked, by an admin or by a billing system's signed
 * webhook. Both set `users.is_premium` and `users.premium_until` the same way (`isPremium` reads
 * them): a grant sets both, a revocation clears both.
 */
export class EntitlementService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly webhookSecret?: string,
  ) {}

  get webhookEnabled(): boolean {
    return this.webhookSecret !== undefined;
  }

  async setPremium(userId: number, until: string | null): Promise<PremiumState> {
    if (!(await setPremiumUntil(this.db, userId, until === null ? null : new Date(until)))) {
      throw new AppError('NOT_FOUND', 'No such user.');
    }
    return premiumState(userId, until);
  }

  /**
   * Checks a webhook delivery before its body is read: `header` must be `t=<unix seconds>,v1=<hex>`
   * with `v1` the HMAC-SHA256 of `<t>.<raw body>` under the webhook secret, and `t` within
   * `WEBHOOK_TOLERANCE_MS` of now (an old capture cannot be sent again once that has passed; the
   * event id refuses it before).
   */
  verifySignature(header: string | undefined, rawBody: Buffer, now = Date.now()): void {
    const refuse = (why: string) => new AppError('SIGNATURE_INVALID', why);
    if (!this.webhookSecret) throw refuse('Webhooks are not configured.');
    const parts = new Map(
      (header ?? '').split(',').map((part) => {
        const at = part.indexOf('=');
        return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
      }),
    );
    const timestamp = parts.get('t');
    const signature = parts.get('v1');
    if (
      !timestamp ||
      !/^\d{1,12}$/.test(timestamp) ||
      !signature ||
      !/^[0-9a-f]{64}$/i.test(signature)
    ) {
      throw refuse(`The ${SIGNATURE_HEADER} header must be t=<unix seconds>,v1=<hex HMAC-SHA256>.`);
    }
    const expected = createHmac('sha256', this.webhookSecret)
      .update(`${timestamp}.`)
      .update(rawBody)
      .digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      throw refuse('The signature does not match the body.');
    }
    if (Math.abs(now - Number(timestamp) * 1000) > WEBHOOK_TOLERANCE_MS) {
      throw refuse('The timestamp is more than 5 minutes away from our clock.');
    }
  }

  /** Applies a verified event once: a second delivery of its id is WEBHOOK_REPLAYED. */
  async applyEvent(event: z.output<typeof entitlementEvent>): Promise<PremiumState> {
    const until = event.until === null ? null : new Date(event.until);
    await this.db.transaction().execute(async (trx) => {
      if (
        !(await recordEntitlementEvent(trx, {
          eventId: event.event_id,
          userId: event.user_id,
          until,
        }))
      ) {
        throw new AppError('WEBHOOK_REPLAYED', 'This event was applied before.');
      }
      // Unknown user: rolled back with the event, so a retry once the account exists applies it.
      if (!(await setPremiumUntil(trx, event.user_id, until))) {
        throw new AppError('NOT_FOUND', 'No such user.');
      }
    });
    return premiumState(event.user_id, event.until);
  }
}

const premiumState = (userId: number, until: string | null): PremiumState => ({
  user_id: userId,
  is_premium: until !== null && new Date(until).getTime() > Date.now(),
  premium_until: until === null ? null : new Date(until).toISOString(),
});
