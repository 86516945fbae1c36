import { profileInput, profileView } from '@mm/client/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

export function userRoutes({ users }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'put',
      path: '/api/users/me',
      summary: "Create or update the caller's profile",
      tags: ['users'],
      auth: true,
      body: profileInput,
      response: profileView,
      handler: ({ body, userId }) => users.saveProfile(userId, body),
    }),
    route({
      method: 'get',
      path: '/api/users/me',
      summary: "The caller's own profile",
      tags: ['users'],
      auth: true,
      response: profileView,
      errors: ['NOT_FOUND'],
      handler: ({ userId }) => users.getProfile(userId),
    }),
  ];
}
