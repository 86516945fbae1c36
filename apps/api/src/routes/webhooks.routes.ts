import { entitlementEvent, premiumState } from '@mm/contract';
import { SIGNATURE_HEADER, type Services } from '@mm/core';
import { rawBody, route, type AnyRouteSpec } from '../http/route-table';

/** Server-to-server calls, signed instead of authenticated: mounted when their secret is set. */
export function webhookRoutes({ entitlements }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/api/webhooks/entitlements',
      summary: 'A billing system grants premium until an instant, or revokes it (signed)',
      description:
        `Signed, not authenticated: the \`${SIGNATURE_HEADER}\` header is ` +
        '`t=<unix seconds>,v1=<hex>`, `v1` the HMAC-SHA256 of `<t>.<raw body>` under ' +
        '`ENTITLEMENTS_WEBHOOK_SECRET`. Refused (401 SIGNATURE_INVALID) when it does not match or ' +
        '`t` is more than 5 minutes off; an `event_id` applied before is 409 WEBHOOK_REPLAYED.',
      tags: ['webhooks'],
      auth: false,
      guard: (req) => {
        const header = req.headers[SIGNATURE_HEADER];
        entitlements.verifySignature(typeof header === 'string' ? header : undefined, rawBody(req));
      },
      body: entitlementEvent,
      response: premiumState,
      errors: ['SIGNATURE_INVALID', 'WEBHOOK_REPLAYED', 'NOT_FOUND'],
      handler: ({ body }) => entitlements.applyEvent(body),
    }),
  ];
}
