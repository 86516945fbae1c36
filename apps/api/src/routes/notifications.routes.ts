import {
  notificationSettings,
  okResponse,
  pushConfigView,
  pushSubscriptionRequest,
  pushSubscriptionView,
  pushUnsubscribeRequest,
} from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** The caller's devices for push notifications, and what they want to be told (docs/design.md §9). */
export function notificationRoutes({ notifications, pushConfig }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/push/config',
      summary: 'Whether this server sends push notifications, and its VAPID public key',
      description:
        'A browser passes `vapid_public_key` to `PushManager.subscribe()` as ' +
        '`applicationServerKey`. While push is off (no VAPID keys configured) `enabled` is false ' +
        'and the key null. No token needed: the key is public.',
      tags: ['notifications'],
      auth: false,
      response: pushConfigView,
      handler: () => pushConfig,
    }),
    route({
      method: 'post',
      path: '/api/users/me/push-subscriptions',
      summary: 'Register a device for push notifications (a Web Push subscription)',
      description:
        'The body is what `PushSubscription.toJSON()` gives in a browser: the push service ' +
        'endpoint (https) and the device keys `p256dh` and `auth`. Registering the same endpoint ' +
        'again refreshes its keys; one registered by another account moves to the caller. ' +
        'Nothing is pushed while the caller has a socket connected.',
      tags: ['notifications'],
      auth: true,
      body: pushSubscriptionRequest,
      status: 201,
      response: pushSubscriptionView,
      errors: ['PROFILE_REQUIRED'],
      handler: ({ body, userId }) => notifications.subscribe(userId, body),
    }),
    route({
      method: 'delete',
      path: '/api/users/me/push-subscriptions',
      summary: 'Forget one of the caller’s devices, by its endpoint',
      tags: ['notifications'],
      auth: true,
      body: pushUnsubscribeRequest,
      response: okResponse,
      errors: ['NOT_FOUND'],
      handler: async ({ body, userId }) => {
        await notifications.unsubscribe(userId, body.endpoint);
        return { ok: true as const };
      },
    }),
    route({
      method: 'get',
      path: '/api/users/me/notification-settings',
      summary: 'What the caller is notified of: kinds, message previews, quiet hours',
      description: 'Until changed: every kind on, previews off, no quiet hours.',
      tags: ['notifications'],
      auth: true,
      response: notificationSettings,
      handler: ({ userId }) => notifications.settings(userId),
    }),
    route({
      method: 'put',
      path: '/api/users/me/notification-settings',
      summary: 'Replace the caller’s notification settings',
      description:
        'Quiet hours hold pushes from `start` to `end` (local `HH:MM` in `time_zone`, an IANA ' +
        'zone; an end before the start wraps past midnight) and send them when they end.',
      tags: ['notifications'],
      auth: true,
      body: notificationSettings,
      response: notificationSettings,
      errors: ['PROFILE_REQUIRED'],
      handler: ({ body, userId }) => notifications.saveSettings(userId, body),
    }),
  ];
}
