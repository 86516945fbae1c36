import {
  findMatchRequest,
  historyPage,
  historyQuery,
  matchActionRequest,
  matchListResponse,
  matchParams,
  matchResponse,
  onlineStatus,
  onlineStatusParams,
  restSendMessageRequest,
  sendMessageResponse,
  userParams,
  userStats,
} from '@mm/client/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** The match lifecycle and chat history, at the seed API's paths. */
export function mysteryRoutes({
  matches,
  messages,
  secretChat,
  presence,
}: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/api/mystery/find-match',
      summary: 'Pair the caller with the most compatible stranger inside the filters',
      description:
        'Candidates are approved, recently active, not blocked either way and not already in an ' +
        'active match with the caller. Free accounts start at most DAILY_MATCH_LIMIT matches per ' +
        'UTC day (429 DAILY_LIMIT_REACHED with `details.resets_at`); premium has no limit.',
      tags: ['matches'],
      auth: true,
      body: findMatchRequest,
      status: 201,
      response: matchResponse,
      errors: ['PROFILE_REQUIRED', 'PROFILE_NOT_APPROVED', 'NO_CANDIDATES', 'DAILY_LIMIT_REACHED'],
      handler: async ({ body, userId }) => ({ match: await matches.findMatch(userId, body) }),
    }),
    route({
      method: 'get',
      path: '/api/mystery/my-matches/{user_id}',
      summary: "The caller's matches",
      tags: ['matches'],
      auth: true,
      params: userParams,
      response: matchListResponse,
      handler: async ({ params }) => ({ matches: await matches.listMatches(params.user_id) }),
    }),
    route({
      method: 'post',
      path: '/api/mystery/extend-match',
      summary: 'Add MATCH_EXTEND_HOURS to a live match (free: once per match; premium: always)',
      tags: ['matches'],
      auth: true,
      body: matchActionRequest,
      response: matchResponse,
      errors: ['NOT_FOUND', 'MATCH_NOT_ACTIVE', 'EXTENSION_LIMIT_REACHED'],
      handler: async ({ body, userId }) => ({ match: await matches.extend(userId, body.match_id) }),
    }),
    route({
      method: 'post',
      path: '/api/mystery/unmatch',
      summary: 'End the match for both sides at once',
      tags: ['matches'],
      auth: true,
      body: matchActionRequest,
      response: matchResponse,
      errors: ['NOT_FOUND', 'MATCH_NOT_ACTIVE'],
      handler: async ({ body, userId }) => ({
        match: await matches.unmatch(userId, body.match_id),
      }),
    }),
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
      errors: ['NOT_FOUND', 'MATCH_NOT_ACTIVE'],
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
