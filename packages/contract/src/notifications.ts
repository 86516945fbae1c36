import { z } from 'zod';
import { storable, text } from './text.js';

/**
 * Push notifications: the devices a user registers and what they want to be told (docs/design.md
 * §9). The subscription is what a browser's `PushManager.subscribe()` returns, as its `toJSON()`
 * shapes it.
 */

/** base64url without padding, as browsers encode the subscription's keys. */
const base64url = (max: number) =>
  text
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url without padding');

/** The push service's URL for one device: https only (RFC 8030 requires TLS). */
export const pushEndpoint = storable(z.url({ protocol: /^https$/ }).max(2048));

/** `POST /api/users/me/push-subscriptions`. */
export const pushSubscriptionRequest = z.object({
  endpoint: pushEndpoint,
  keys: z.object({
    /** The device's P-256 public key, uncompressed (65 bytes: 87 characters). */
    p256dh: base64url(200),
    /** The device's 16-byte auth secret (22 characters). */
    auth: base64url(100),
  }),
});
export type PushSubscriptionRequest = z.input<typeof pushSubscriptionRequest>;

/** `DELETE /api/users/me/push-subscriptions`: the device to forget, by its endpoint. */
export const pushUnsubscribeRequest = z.object({ endpoint: pushEndpoint });

export const pushSubscriptionView = z
  .object({ endpoint: z.string(), created_at: z.string().meta({ format: 'date-time' }) })
  .meta({ id: 'PushSubscription' });

/** `GET /api/push/config`: whether this server sends pushes, and the key a browser subscribes with. */
export const pushConfigView = z
  .object({
    enabled: z.boolean(),
    /** The server's VAPID public key (base64url), `applicationServerKey`; null while push is off. */
    vapid_public_key: z.string().nullable(),
  })
  .meta({ id: 'PushConfig' });
export type PushConfigView = z.output<typeof pushConfigView>;

/** Local wall-clock time, `HH:MM` (24 h). */
const localTime = text.regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (00:00 to 23:59)');

/** An IANA time zone this server's Intl knows (`Europe/Berlin`). */
export const timeZone = text
  .min(1)
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone, e.g. Europe/Berlin');

export const notificationKinds = ['match', 'message', 'unlock', 'expiring'] as const;
export type NotificationKindName = (typeof notificationKinds)[number];

/**
 * `PUT /api/users/me/notification-settings`: every setting at once. Quiet hours (start to end,
 * wrapping past midnight when end is earlier) defer pushes until they end; null for none.
 */
export const notificationSettings = z
  .object({
    kinds: z.object({
      match: z.boolean(),
      message: z.boolean(),
      unlock: z.boolean(),
      expiring: z.boolean(),
    }),
    /** Message text in the push; off by default (the lock screen shows it to anyone near). */
    previews: z.boolean(),
    quiet_hours: z
      .object({ start: localTime, end: localTime, time_zone: timeZone })
      .refine((hours) => hours.start !== hours.end, {
        message: 'start and end must differ',
        path: ['end'],
      })
      .nullable(),
  })
  .meta({ id: 'NotificationSettings' });
export type NotificationSettings = z.output<typeof notificationSettings>;

/** `match:expiring`, to both users: the match ends at `expires_at` unless it is extended. */
export const matchExpiringEvent = z
  .object({ match_id: z.number().int(), expires_at: z.string().meta({ format: 'date-time' }) })
  .meta({ id: 'MatchExpiringEvent' });
export type MatchExpiringEvent = z.infer<typeof matchExpiringEvent>;

/**
 * What a push carries (JSON, encrypted for the device): what the service worker shows. `title` and
 * `body` never hold more than the recipient's unlock level allows, and a message's text only with
 * previews on.
 */
export interface PushPayload {
  kind: NotificationKindName;
  match_id: number;
  title: string;
  body: string;
  /** Kind `message`: the messages waiting unread in the match. */
  unread?: number;
  /** Kind `unlock`: the level reached. */
  level?: number;
}
