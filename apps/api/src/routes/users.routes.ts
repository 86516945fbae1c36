import { accountDeletionRequest, okResponse, profileInput, profileView } from '@mm/contract';
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
      errors: ['CONTENT_REFUSED'],
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
    route({
      method: 'delete',
      path: '/api/users/delete-account',
      summary: "Delete the caller's account: erase the profile and end every match",
      description:
        'In one transaction: the profile is erased (name "Deleted user", personal fields emptied), ' +
        'every active match ends for both (partners hear `match:ended`, reason `unmatched`), the ' +
        "caller's blocks are removed and their messages no longer name them (`sender_id` null). " +
        'Reports they filed are kept for moderation. Afterwards their token can no longer change ' +
        'anything (410 ACCOUNT_DELETED). Calling it again answers 200 and changes nothing.',
      tags: ['users'],
      auth: true,
      deletedAccountMayCall: true,
      query: accountDeletionRequest,
      body: accountDeletionRequest,
      response: okResponse,
      handler: async ({ userId }) => {
        await users.deleteAccount(userId);
        return { ok: true as const };
      },
    }),
  ];
}
