import { premiumGrant, premiumState, userParams } from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** What only an admin may do. */
export function adminRoutes({ entitlements }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'put',
      path: '/api/admin/users/{user_id}/premium',
      summary: 'Grant premium until an instant, or revoke it (`until: null`); admins only',
      description:
        'Sets the same state as the entitlements webhook: premium while `until` is ahead. 404 ' +
        'for a user without a live account.',
      tags: ['admin'],
      auth: true,
      role: 'admin',
      params: userParams,
      body: premiumGrant,
      response: premiumState,
      errors: ['NOT_FOUND'],
      handler: ({ params, body }) => entitlements.setPremium(params.user_id, body.until),
    }),
  ];
}
