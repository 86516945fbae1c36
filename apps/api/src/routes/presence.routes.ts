import { onlineStatus, onlineStatusParams } from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** Whether a match partner is online. */
export function presenceRoutes({ presence, matches }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/mystery/chat/online-status/{match_id}/{user_id}',
      summary: "Whether the caller's partner in the match is online, and when last seen",
      description:
        '`user_id` is the caller; the answer is about their partner in `match_id`. Once the match ' +
        'ended by block or unmatch the partner is withdrawn: `online: false, last_seen_at: null`.',
      tags: ['chat'],
      auth: true,
      params: onlineStatusParams,
      response: onlineStatus,
      errors: ['NOT_FOUND'],
      handler: async ({ params }) =>
        presence.ofPartner(
          await matches.requireParticipant(params.match_id, params.user_id),
          params.user_id,
        ),
    }),
  ];
}
