import { z } from 'zod';
import { reportReasons } from './lifecycle.js';
import { coerced, requestNumber, userId } from './schemas.js';
import { text } from './text.js';

/**
 * The moderation desk (docs/design.md §3.12, §3.13): moderators and admins only. A `user_id` here
 * names whom a moderator acts on, never the caller.
 */

const isoTimestamp = z.string().meta({ format: 'date-time' });
const reportStatuses = ['open', 'reviewing', 'resolved', 'dismissed'] as const;
export const reportResolutions = ['dismiss', 'warn', 'suspend', 'ban'] as const;
const pageLimit = coerced(requestNumber.int().min(1).max(100)).default(20);

export const reportQueueQuery = z.object({
  status: z.enum(reportStatuses).default('open'),
  reason: z.enum(reportReasons).optional(),
  reported_user_id: userId.optional(),
  /** `next_after` of the page before. */
  after: userId.optional(),
  limit: pageLimit,
});
export type ParsedReportQueueQuery = z.output<typeof reportQueueQuery>;

export const reportParams = z.object({ report_id: userId });

const evidenceMessage = z.object({
  id: z.number().int(),
  seq: z.number().int(),
  sender_id: z.number().int().nullable(),
  body: z.string(),
  is_secret: z.boolean(),
  created_at: isoTimestamp,
});

export const deskReport = z
  .object({
    id: z.number().int(),
    reporter_id: z.number().int().nullable(),
    reported_user_id: z.number().int().nullable(),
    match_id: z.number().int().nullable(),
    message_id: z.number().int().nullable(),
    reason: z.enum(reportReasons),
    details: z.string().nullable(),
    /** The match's last messages when the report was first filed. */
    evidence: z.array(evidenceMessage),
    status: z.enum(reportStatuses),
    /** How often the reporter filed it: repeats within 24 hours fold into the open report. */
    repeat_count: z.number().int(),
    created_at: isoTimestamp,
    last_reported_at: isoTimestamp,
    resolution: z.enum(reportResolutions).nullable(),
    resolved_by: z.number().int().nullable(),
    resolved_at: isoTimestamp.nullable(),
  })
  .meta({ id: 'DeskReport', description: 'A report as moderators see it, with its evidence.' });

export const reportQueuePage = z.object({
  reports: z.array(deskReport),
  /** Pass as `after` for the next page; null on the last one. */
  next_after: z.number().int().nullable(),
});
export type ReportQueuePage = z.infer<typeof reportQueuePage>;

export const moderationDecision = z
  .object({
    action: z.enum(reportResolutions),
    /** Why: kept in the audit record. */
    reason: text.trim().min(1).max(2000),
    /** `suspend` only, and required there: when the suspension ends (in the future). */
    until: isoTimestamp.pipe(z.iso.datetime({ offset: true })).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.action === 'suspend') {
      if (value.until === undefined || !(Date.parse(value.until) > Date.now())) {
        ctx.addIssue({
          code: 'custom',
          path: ['until'],
          message: 'a suspension needs a future end',
        });
      }
    } else if (value.until !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'only a suspension has an end' });
    }
  });
export type ModerationDecision = z.output<typeof moderationDecision>;

export const deskReportResponse = z.object({ report: deskReport });

export const profileQueueQuery = z.object({
  /** `next_after` of the page before. */
  after: z.string().max(100).optional(),
  limit: pageLimit,
});

export const pendingProfile = z
  .object({
    user_id: z.number().int(),
    display_name: z.string(),
    bio: z.string().nullable(),
    photo_url: z.string().nullable(),
    /** When the profile was created or last changed. */
    changed_at: isoTimestamp,
  })
  .meta({ id: 'PendingProfile', description: 'A profile waiting for review.' });

export const profileReviewPage = z.object({
  profiles: z.array(pendingProfile),
  next_after: z.string().nullable(),
});
export type ProfileReviewPage = z.infer<typeof profileReviewPage>;

export const profileReviewRequest = z.object({
  /** Why: the audit record keeps it, and a rejected profile's owner is shown it. */
  reason: text.trim().min(1).max(500),
});

export const profileReviewResult = z.object({
  user_id: z.number().int(),
  verification_status: z.enum(['pending', 'approved', 'rejected']),
  verification_note: z.string().nullable(),
});
