import {
  deleteMessageRequest,
  deleteMessageResponse,
  historyPage,
  historyQuery,
  matchParams,
  restSendMessageRequest,
  sendMessageResponse,
} from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** The chat over REST: sending a message and reading the history. */
export function messageRoutes({ messages }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/api/mystery/send-message',
      summary: 'Send a message over REST (201; a resend with the same client_id answers 200)',
      description:
        "The same path as the socket's `message:send`: stored once per client_id, delivered to " +
        'the match room as `message:new`.',
      tags: ['chat'],
      auth: true,
      body: restSendMessageRequest,
      status: 201,
      alsoStatus: [200],
      response: sendMessageResponse,
      errors: ['NOT_FOUND', 'MATCH_NOT_ACTIVE', 'CONTENT_REFUSED'],
      handler: async ({ body, userId, setStatus }) => {
        const { message, created } = await messages.send(userId, body);
        if (!created) setStatus(200);
        return { message };
      },
    }),
    route({
      method: 'get',
      path: '/api/mystery/chat/{match_id}',
      summary: 'Chat history, newest page first (cursor pagination)',
      tags: ['chat'],
      auth: true,
      params: matchParams,
      query: historyQuery,
      response: historyPage,
      errors: ['NOT_FOUND'],
      handler: ({ params, query, userId }) => messages.history(userId, params.match_id, query),
    }),
    route({
      method: 'delete',
      path: '/api/mystery/chat/{match_id}/messages/{seq}',
      summary: "Take back one of the caller's own messages within the unsend window",
      description:
        "The same path as the socket's `message:delete`: the body is erased, the seq stays as a " +
        "tombstone, the partner's sockets get `message:deleted`. Repeating it answers the " +
        'tombstone again.',
      tags: ['chat'],
      auth: true,
      params: deleteMessageRequest,
      response: deleteMessageResponse,
      errors: ['NOT_FOUND', 'NOT_MESSAGE_SENDER', 'UNSEND_WINDOW_CLOSED'],
      handler: async ({ params, userId }) => ({
        message: await messages.unsend(userId, params),
      }),
    }),
  ];
}
