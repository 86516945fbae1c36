import { matchActionRequest, matchParams, matchResponse } from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** Secret chat: asking for it and accepting it. */
export function secretChatRoutes({ secretChat }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/api/mystery/request-secret-chat',
      summary: 'Ask the partner for a secret chat (messages purged after their TTL)',
      tags: ['secret chat'],
      auth: true,
      body: matchActionRequest,
      response: matchResponse,
      errors: ['NOT_FOUND', 'MATCH_NOT_ACTIVE'],
      handler: async ({ body, userId }) => ({
        match: await secretChat.request(userId, body.match_id),
      }),
    }),
    route({
      method: 'post',
      path: '/api/mystery/accept-secret-chat/{match_id}',
      summary: "Accept the partner's secret chat request",
      tags: ['secret chat'],
      auth: true,
      params: matchParams,
      response: matchResponse,
      errors: ['NOT_FOUND', 'MATCH_NOT_ACTIVE', 'SECRET_CHAT_NOT_REQUESTED'],
      handler: async ({ params, userId }) => ({
        match: await secretChat.accept(userId, params.match_id),
      }),
    }),
  ];
}
