import type { RestClient } from '@mm/client';

/**
 * Web Push for the demo (docs/design.md §9.1): the service worker in public/sw.js shows what the
 * server pushes; this file turns it on and off for this browser and keeps the server told.
 */
export type PushState =
  | { name: 'loading' }
  | { name: 'hidden' } // push is off on the server: nothing to offer
  | { name: 'unsupported' }
  | { name: 'off' }
  | { name: 'working' }
  | { name: 'denied' }
  | { name: 'on' }
  | { name: 'error'; message: string };

export const pushSupported = (): boolean =>
  typeof window !== 'undefined' &&
  'serviceWorker' in navigator &&
  'PushManager' in window &&
  'Notification' in window;

/** The service worker next to index.html (relative: the app may be served under a prefix). */
const WORKER = './sw.js';

const existingRegistration = () => navigator.serviceWorker.getRegistration(WORKER);

/** What to show first: whether the server pushes, and whether this browser is subscribed. */
export async function initialPushState(rest: RestClient): Promise<PushState> {
  const config = await rest.pushConfig();
  if (!config.enabled || !config.vapid_public_key) return { name: 'hidden' };
  if (!pushSupported()) return { name: 'unsupported' };
  if (Notification.permission === 'denied') return { name: 'denied' };
  const subscription = await (await existingRegistration())?.pushManager.getSubscription();
  return { name: subscription ? 'on' : 'off' };
}

/** base64url (the server's VAPID key) to the bytes `applicationServerKey` takes. */
export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = value.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/**
 * Registers the worker, asks for permission, subscribes with the server's key and registers the
 * subscription with the server. Failures come back as a state the control can show.
 */
export async function turnOnPush(rest: RestClient): Promise<PushState> {
  const config = await rest.pushConfig();
  if (!config.enabled || !config.vapid_public_key) return { name: 'hidden' };
  const registration = await navigator.serviceWorker.register(WORKER);
  const permission = await Notification.requestPermission();
  if (permission === 'denied') return { name: 'denied' };
  if (permission !== 'granted') return { name: 'off' }; // dismissed: ask again next time
  await navigator.serviceWorker.ready;
  let subscription: PushSubscription;
  try {
    subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64UrlToBytes(config.vapid_public_key),
    });
  } catch (error) {
    return { name: 'error', message: subscribeFailure(error) };
  }
  const json = subscription.toJSON();
  await rest.subscribePush({
    endpoint: json.endpoint ?? subscription.endpoint,
    keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
  });
  return { name: 'on' };
}

/** Unsubscribes this browser and tells the server to forget it. */
export async function turnOffPush(rest: RestClient): Promise<PushState> {
  const subscription = await (await existingRegistration())?.pushManager.getSubscription();
  if (subscription) {
    await subscription.unsubscribe();
    await rest.unsubscribePush(subscription.endpoint).catch((error: unknown) => {
      // Already forgotten (the server drops devices whose push service said gone): fine.
      if ((error as { status?: number }).status !== 404) throw error;
    });
  }
  return { name: 'off' };
}

/** The browser's reason, readably: a missing push service is the usual one (headless browsers). */
function subscribeFailure(error: unknown): string {
  const name = (error as { name?: string }).name;
  const detail = error instanceof Error ? error.message : String(error);
  if (name === 'AbortError' || /push service/i.test(detail)) {
    return `This browser's push service is unavailable (${detail}).`;
  }
  if (name === 'NotAllowedError') return 'The browser did not allow notifications.';
  return `Could not subscribe: ${detail}`;
}
