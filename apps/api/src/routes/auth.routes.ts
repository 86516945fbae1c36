import { devTokenRequest, tokenResponse } from '@mm/contract';
import type { TokenService } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** Development tokens: mounted only when DEV_TOKENS is on (the embedded default). */
export function devTokenRoutes(tokens: TokenService): AnyRouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/api/auth/dev-token',
      summary: 'A token for any user id and role (development only, when DEV_TOKENS is on)',
      tags: ['auth'],
      auth: false,
      body: devTokenRequest,
      response: tokenResponse,
      handler: ({ body }) => ({ token: tokens.sign(body.user_id, undefined, body.role) }),
    }),
  ];
}
