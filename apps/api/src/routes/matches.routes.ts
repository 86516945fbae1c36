import {
  findMatchRequest,
  matchActionRequest,
  matchListResponse,
  matchResponse,
  userParams,
} from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** The match lifecycle: find a match, list the caller's, extend one and end one. */
export function matchRoutes({ matches }: Services): AnyRouteSpec[] {
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
      // findMatch refuses a deleted, suspended or banned caller in its first query.
      standingCheckedByHandler: true,
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
  ];
}
