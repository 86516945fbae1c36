import {
  discoveryBatch,
  discoveryBatchQuery,
  discoveryPage,
  discoveryScrollQuery,
} from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

const visibility =
  'Only approved profiles that are not deleted, not the caller, not blocked either way and never ' +
  'matched with the caller (a partner is seen through the match, at its unlock level). A ' +
  'card shows only gender, age, city and interests (what the find-match filters reveal anyway); ' +
  'the rest of a profile unlocks in a match. Cards name profiles by a ref valid for the caller ' +
  'only, never by user id.';

/** Profile discovery (docs/design.md §3.9, §4.3), at the seed API's paths. */
export function discoveryRoutes({ discovery }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/v1/matching/profiles/scroll',
      summary: 'Browse discoverable profiles, newest first (keyset cursor, find-match filters)',
      description: `${visibility} Pass \`next_cursor\` as \`cursor\` for the next page.`,
      tags: ['discovery'],
      auth: true,
      query: discoveryScrollQuery,
      response: discoveryPage,
      handler: ({ query, userId }) => discovery.scroll(userId, query),
    }),
    route({
      method: 'get',
      path: '/api/v1/matching/profiles/batch',
      summary:
        'Discovery cards by their ref (at most 50); refs the caller may not use are left out',
      description: visibility,
      tags: ['discovery'],
      auth: true,
      query: discoveryBatchQuery,
      response: discoveryBatch,
      handler: async ({ query, userId }) => ({
        profiles: await discovery.batch(userId, query.profile_ids),
      }),
    }),
  ];
}
