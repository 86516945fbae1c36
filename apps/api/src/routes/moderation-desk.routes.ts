import {
  deskReportResponse,
  moderationDecision,
  profileQueueQuery,
  profileReviewRequest,
  profileReviewResult,
  profileReviewPage,
  reportParams,
  reportQueuePage,
  reportQueueQuery,
  userParams,
} from '@mm/contract';
import type { Services } from '@mm/core';
import { route, type AnyRouteSpec } from '../http/route-table';

/** The moderation desk: the report queue and the profile review queue, moderators and admins only. */
export function moderationDeskRoutes({ moderationDesk }: Services): AnyRouteSpec[] {
  const desk = { tags: ['moderation desk'], auth: true as const, role: 'moderator' as const };
  const review = (approve: boolean) =>
    route({
      ...desk,
      method: 'post',
      path: `/api/moderation/profiles/{user_id}/${approve ? 'approve' : 'reject'}`,
      summary: approve
        ? 'Approve a pending profile: it may be matched from now on'
        : 'Reject a pending profile; its owner sees the reason (`verification_note`)',
      params: userParams,
      body: profileReviewRequest,
      response: profileReviewResult,
      errors: ['PROFILE_NOT_PENDING'],
      handler: ({ params, body, userId }) =>
        moderationDesk.reviewProfile(userId, params.user_id, { approve, reason: body.reason }),
    });
  return [
    route({
      ...desk,
      method: 'get',
      path: '/api/moderation/reports',
      summary: 'The report queue, in filing order, with each report’s evidence',
      description:
        'Open reports unless `status` says otherwise; filter by `reason` and `reported_user_id`. ' +
        'Pages by keyset: pass the page’s `next_after` as `after` for the next one.',
      query: reportQueueQuery,
      response: reportQueuePage,
      handler: ({ query }) => moderationDesk.reports(query),
    }),
    route({
      ...desk,
      method: 'post',
      path: '/api/moderation/reports/{report_id}/resolve',
      summary: 'Resolve an open report: dismiss, warn, suspend until a time, or ban',
      description:
        'Recorded in the audit table with who, when and why. A suspension or ban ends the ' +
        'user’s active matches (`match:ended`, reason `account_restricted`), closes their sockets ' +
        'on every pod, and refuses their requests and handshakes from then on.',
      params: reportParams,
      body: moderationDecision,
      response: deskReportResponse,
      errors: ['NOT_FOUND', 'REPORT_NOT_OPEN'],
      handler: ({ params, body, userId }) => moderationDesk.resolve(userId, params.report_id, body),
    }),
    route({
      ...desk,
      method: 'get',
      path: '/api/moderation/profiles',
      summary: 'Profiles waiting for review, oldest change first',
      description: 'Pages by keyset: pass the page’s `next_after` as `after` for the next one.',
      query: profileQueueQuery,
      response: profileReviewPage,
      handler: ({ query }) => moderationDesk.pendingProfiles(query),
    }),
    review(true),
    review(false),
  ];
}
