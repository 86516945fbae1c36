import { userParams, userStats } from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** The caller's match counts and what is left of today's find-match limit. */
export function statsRoutes({ matches }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/mystery/stats/{user_id}',
      summary: "The caller's match counts and what is left of today's limit",
      tags: ['matches'],
      auth: true,
      params: userParams,
      response: userStats,
      errors: ['NOT_FOUND'],
      handler: ({ params }) => matches.stats(params.user_id),
    }),
  ];
}
