import type {
  ModerationDecision,
  ParsedReportQueueQuery,
  ProfileReviewPage,
  ReportQueuePage,
} from '@mm/contract';
import {
  closeReport,
  endActiveMatchesOf,
  findReport,
  listPendingProfiles,
  listReports,
  oldestOpenReportAgeSeconds,
  recordModerationAction,
  restrictAccount,
  reviewProfile,
  type Database,
  type Report,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import { announceMatchEnded } from '../realtime/match-events';
import type { Realtime } from '../realtime/realtime';

/**
 * The moderation desk (docs/design.md §3.12): moderators read the report queue and resolve each
 * report, and review profiles waiting for approval (docs/design.md §3.13). Every decision is appended to the
 * audit table in the same transaction as its effect, so neither exists without the other.
 */
export class ModerationDeskService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
  ) {}

  /** For the operators' gauge and alert: seconds the oldest open report has waited. */
  oldestOpenReportAgeSeconds(): Promise<number> {
    return oldestOpenReportAgeSeconds(this.db);
  }

  async reports(query: ParsedReportQueueQuery): Promise<ReportQueuePage> {
    const rows = await listReports(this.db, {
      status: query.status,
      reason: query.reason,
      reportedUserId: query.reported_user_id,
      afterId: query.after,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    return {
      reports: page.map(toDeskView),
      next_after: rows.length > query.limit ? page[page.length - 1]!.id : null,
    };
  }

  /**
   * Resolves an open report: dismiss it, warn the reported user, suspend them until a time, or ban
   * them. A suspension or ban ends their active matches (each partner hears `match:ended`,
   * reason `account_restricted`) and closes their sockets on every pod; their next handshake or
   * request is refused (ACCOUNT_SUSPENDED, ACCOUNT_BANNED) and find-match skips them.
   */
  async resolve(moderatorId: number, reportId: number, decision: ModerationDecision) {
    const report = await findReport(this.db, reportId);
    if (!report) throw new AppError('NOT_FOUND', 'No such report.');
    const target = report.reported_user_id;
    const until = decision.action === 'suspend' ? new Date(decision.until!) : null;
    const restricts = decision.action === 'suspend' || decision.action === 'ban';
    const { closed, ended } = await this.db.transaction().execute(async (trx) => {
      const closed = await closeReport(trx, reportId, {
        resolution: decision.action,
        moderatorId,
      });
      if (!closed) return { closed: undefined, ended: [] };
      await recordModerationAction(trx, {
        moderatorId,
        action: decision.action,
        targetUserId: target,
        reportId,
        reason: decision.reason,
        until,
      });
      if (!restricts || target === null) return { closed, ended: [] };
      await restrictAccount(trx, { userId: target, until, reason: decision.reason, moderatorId });
      return { closed, ended: await endActiveMatchesOf(trx, target) };
    });
    if (!closed) {
      const now = await findReport(this.db, reportId);
      throw new AppError('REPORT_NOT_OPEN', 'This report was closed already.', {
        status: now?.status ?? report.status,
      });
    }
    for (const match of ended) announceMatchEnded(this.realtime, match, 'account_restricted');
    if (restricts && target !== null) this.realtime.disconnectUsers([target]);
    return { report: toDeskView(closed) };
  }

  async pendingProfiles(query: { after?: string; limit: number }): Promise<ProfileReviewPage> {
    const after = query.after === undefined ? undefined : decodeProfileCursor(query.after);
    const rows = await listPendingProfiles(this.db, { after, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      profiles: page.map((row) => ({
        user_id: row.id,
        display_name: row.display_name,
        bio: row.bio,
        photo_url: row.photo_url,
        changed_at: row.updated_at.toISOString(),
      })),
      next_after:
        rows.length > query.limit && last ? encodeProfileCursor(last.changed, last.id) : null,
    };
  }

  /** Approves a pending profile (it may be matched from now on), or rejects it with a reason. */
  async reviewProfile(
    moderatorId: number,
    userId: number,
    decision: { approve: boolean; reason: string },
  ) {
    const reviewed = await this.db.transaction().execute(async (trx) => {
      const row = await reviewProfile(trx, userId, {
        status: decision.approve ? 'approved' : 'rejected',
        note: decision.approve ? null : decision.reason,
      });
      if (!row) return undefined;
      await recordModerationAction(trx, {
        moderatorId,
        action: decision.approve ? 'approve_profile' : 'reject_profile',
        targetUserId: userId,
        reason: decision.reason,
      });
      return row;
    });
    if (!reviewed) {
      throw new AppError('PROFILE_NOT_PENDING', 'This profile is not waiting for review.');
    }
    return {
      user_id: reviewed.id,
      verification_status: reviewed.verification_status,
      verification_note: reviewed.verification_note,
    };
  }
}

function toDeskView(report: Report) {
  return {
    id: report.id,
    reporter_id: report.reporter_id,
    reported_user_id: report.reported_user_id,
    match_id: report.match_id,
    message_id: report.message_id,
    reason: report.reason,
    details: report.details,
    evidence: report.evidence as never,
    status: report.status,
    repeat_count: report.repeat_count,
    created_at: report.created_at.toISOString(),
    last_reported_at: report.last_reported_at.toISOString(),
    resolution: report.resolution,
    resolved_by: report.resolved_by,
    resolved_at: report.resolved_at?.toISOString() ?? null,
  };
}

/** Where the profile queue's next page starts: the last profile's change time and id, opaque. */
const encodeProfileCursor = (changed: string, id: number): string =>
  Buffer.from(JSON.stringify([changed, id])).toString('base64url');

/** `updated_at::text`: `2026-11-29 09:25:01.123456+00`. */
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

function decodeProfileCursor(cursor: string): { changed: string; id: number } {
  try {
    const [changed, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof changed === 'string' && PG_TIMESTAMP.test(changed) && Number.isSafeInteger(id)) {
      return { changed, id: id as number };
    }
  } catch {
    // Not JSON: refused below like any other cursor this queue did not give.
  }
  throw new AppError('VALIDATION_FAILED', 'The cursor is not one this queue gave.', {
    fields: [{ field: 'after', message: 'is not a cursor this queue gave' }],
  });
}
