import type { ParsedBlockRequest, ParsedReportRequest, ReportView } from '@mm/contract';
import {
  deleteBlock,
  endMatchBetween,
  findMessageInMatch,
  findUserById,
  insertBlock,
  fileReport,
  lastMessages,
  partnerOf,
  type Database,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import { announceMatchEnded } from '../realtime/match-events';
import type { MatchService } from '../matches/match.service';
import type { Realtime } from '../realtime/realtime';
import type { RateLimiter } from '../limits/rate-limiter';

/** How many of the match's last messages a report keeps as evidence. */
export const REPORT_EVIDENCE_MESSAGES = 20;

export class ModerationService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly matches: MatchService,
    private readonly realtime: Realtime,
    private readonly reportLimiter: RateLimiter,
  ) {}

  /**
   * Hides the two from each other's search for good (until unblocked) and ends their active
   * match, if any, for both at once. Blocking again changes nothing. Both must have a profile
   * (users are never removed, only marked deleted, so the check cannot go stale before the insert).
   */
  async block(userId: number, { blocked_user_id: blockedId }: ParsedBlockRequest): Promise<void> {
    if (blockedId === userId) {
      throw new AppError('VALIDATION_FAILED', 'You cannot block yourself.', {
        fields: [{ field: 'blocked_user_id', message: 'must not be yourself' }],
      });
    }
    const [blocker, blocked] = await Promise.all([
      findUserById(this.db, userId),
      findUserById(this.db, blockedId),
    ]);
    if (!blocker) throw new AppError('PROFILE_REQUIRED', 'Create your profile before blocking.');
    if (!blocked) throw new AppError('NOT_FOUND', 'No such user.');
    const ended = await this.db.transaction().execute(async (trx) => {
      await insertBlock(trx, userId, blockedId);
      return endMatchBetween(trx, { userId, otherId: blockedId, status: 'blocked' });
    });
    if (ended) announceMatchEnded(this.realtime, ended, 'blocked');
  }

  /** Lifts the caller's block; the ended match stays ended. Unknown blocks are not an error. */
  async unblock(userId: number, { blocked_user_id: blockedId }: ParsedBlockRequest): Promise<void> {
    await deleteBlock(this.db, userId, blockedId);
  }

  /**
   * Stores a report about the caller's partner in a match (ended or not), with a snapshot of the
   * match's last 20 messages: the evidence outlives purges and deletions. A repeat (same partner
   * and match, within 24 hours, while the first is open) folds into the first: the same report is
   * answered, its `repeat_count` one up. Each user may file `reportRate` reports a window.
   */
  async report(userId: number, input: ParsedReportRequest): Promise<ReportView> {
    await this.reportLimiter.consume(userId);
    const match = await this.matches.requireParticipant(input.match_id, userId);
    const partnerId = partnerOf(match, userId);
    if (input.reported_user_id !== undefined && input.reported_user_id !== partnerId) {
      throw new AppError('VALIDATION_FAILED', 'You can only report your partner in this match.', {
        fields: [{ field: 'reported_user_id', message: 'is not your partner in this match' }],
      });
    }
    if (
      input.message_id !== undefined &&
      !(await findMessageInMatch(this.db, match.id, input.message_id))
    ) {
      throw new AppError('NOT_FOUND', 'No such message in this match.');
    }
    const evidence = (await lastMessages(this.db, match.id, REPORT_EVIDENCE_MESSAGES)).map((m) => ({
      id: m.id,
      seq: m.seq,
      sender_id: m.sender_id,
      body: m.body,
      is_secret: m.is_secret,
      created_at: m.created_at.toISOString(),
    }));
    const { report } = await this.db.transaction().execute((trx) =>
      fileReport(trx, {
        reporter_id: userId,
        reported_user_id: partnerId,
        match_id: match.id,
        message_id: input.message_id ?? null,
        reason: input.reason,
        details: input.details ?? null,
        evidence: JSON.stringify(evidence),
      }),
    );
    return {
      id: report.id,
      match_id: match.id,
      reported_user_id: partnerId,
      reason: report.reason,
      status: report.status,
      evidence_count: Array.isArray(report.evidence) ? report.evidence.length : 0,
      repeat_count: report.repeat_count,
      created_at: report.created_at.toISOString(),
    };
  }
}
