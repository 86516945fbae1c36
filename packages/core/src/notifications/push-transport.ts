import webpush from 'web-push';

/** One device to push to, as it registered. */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

export interface PushOptions {
  /** Replaces an earlier push with the same topic still on the device (RFC 8030, section 5.4). */
  topic: string;
  /** Seconds the push service keeps it for an offline device. */
  ttlSeconds: number;
  urgency: 'normal' | 'high';
}

/**
 * What became of one push: accepted by the push service; `gone` (404/410: the device unsubscribed,
 * forget it); or `failed` (anything else: worth a retry).
 */
export type PushOutcome =
  { outcome: 'sent' } | { outcome: 'gone' } | { outcome: 'failed'; reason: string };

/**
 * How a push reaches a device. Web Push is the one this service ships; FCM or APNs would be further
 * implementations chosen by the endpoint's kind (docs/operations.md), the sender unchanged.
 */
export interface PushTransport {
  send(target: PushTarget, payload: string, options: PushOptions): Promise<PushOutcome>;
}

/** An https agent, as web-push takes one (tests: one trusting a local push service's CA). */
type Agent = NonNullable<webpush.RequestOptions['agent']>;

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** `mailto:` or `https:` contact the push services may use (RFC 8292, section 2.1). */
  subject: string;
}

/**
 * Web Push (RFC 8030) with the payload encrypted for the device (RFC 8291, aes128gcm) and the
 * server identified by VAPID (RFC 8292), through the `web-push` library. `agent` is for tests
 * only (a local push service's self-signed CA); production uses Node's default trust.
 */
export class WebPushTransport implements PushTransport {
  constructor(
    private readonly vapid: VapidKeys,
    private readonly agent?: Agent,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(target: PushTarget, payload: string, options: PushOptions): Promise<PushOutcome> {
    try {
      await webpush.sendNotification(
        { endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } },
        payload,
        {
          vapidDetails: this.vapid,
          TTL: options.ttlSeconds,
          topic: options.topic,
          urgency: options.urgency,
          contentEncoding: 'aes128gcm',
          timeout: this.timeoutMs,
          ...(this.agent && { agent: this.agent }),
        },
      );
      return { outcome: 'sent' };
    } catch (error) {
      const status = (error as { statusCode?: unknown }).statusCode;
      if (status === 404 || status === 410) return { outcome: 'gone' };
      const reason = typeof status === 'number' ? `status ${status}` : String(error);
      return { outcome: 'failed', reason };
    }
  }
}

/** A fresh VAPID key pair (P-256), base64url, as `VAPID_PUBLIC_KEY` / `VAPID_PRIVATE_KEY` take it. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}
