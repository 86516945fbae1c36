import { blockRequest, okResponse, reportRequest, reportResponse } from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** Block, unblock and report, at the seed API's paths. */
export function moderationRoutes({ moderation }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/api/mystery/block',
      summary: 'Block a user: ends your match with them and hides each from the other',
      tags: ['moderation'],
      auth: true,
      body: blockRequest,
      response: okResponse,
      errors: ['NOT_FOUND', 'PROFILE_REQUIRED'],
      handler: async ({ body, userId }) => {
        await moderation.block(userId, body);
        return { ok: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/api/mystery/unblock',
      summary: 'Lift a block (an ended match stays ended)',
      tags: ['moderation'],
      auth: true,
      body: blockRequest,
      response: okResponse,
      handler: async ({ body, userId }) => {
        await moderation.unblock(userId, body);
        return { ok: true as const };
      },
    }),
    route({
      method: 'post',
      path: '/api/mystery/report',
      summary: 'Report your partner in a match; the last 20 messages are kept as evidence',
      tags: ['moderation'],
      auth: true,
      body: reportRequest,
      status: 201,
      response: reportResponse,
      errors: ['NOT_FOUND'],
      handler: async ({ body, userId }) => ({ report: await moderation.report(userId, body) }),
    }),
  ];
}
