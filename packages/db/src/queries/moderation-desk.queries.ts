import { sql, type Expression, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type {
  Database,
  ModerationActionKind,
  NewReport,
  ReportReason,
  ReportResolution,
  ReportStatus,
} from '../schema';
import { eitherSide } from './match-sides';

/** How long a repeat of a report (same reporter, reported user and match) folds into it. */
export const REPORT_FOLD_WINDOW_HOURS = 24;

/**
 * Stores a report, or folds it into the same reporter's open report about the same user and match
 * filed in the last 24 hours (its `repeat_count` goes up; the first evidence stays). Concurrent
 * repeats queue on a transaction-scoped advisory lock named after the triple, so two of them never
 * both insert. Returns the report and whether it was a repeat.
 */
export async function fileReport(trx: Transaction<Database>, report: NewReport) {
  const key = `report:${report.reporter_id}:${report.reported_user_id}:${report.match_id}`;
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
  const folded = await trx
    .updateTable('reports')
    .set({ repeat_count: sql`repeat_count + 1`, last_reported_at: sql`now()` })
    .where('reporter_id', '=', report.reporter_id!)
    .where('reported_user_id', '=', report.reported_user_id!)
    .where('match_id', '=', report.match_id!)
    .where('status', '=', 'open')
    .where(
      'created_at',
      '>',
      sql<Date>`now() - make_interval(hours => ${REPORT_FOLD_WINDOW_HOURS})`,
    )
    .returningAll()
    .executeTakeFirst();
  if (folded) return { report: folded, repeated: true };
  const stored = await trx
    .insertInto('reports')
    .values(report)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { report: stored, repeated: false };
}

export interface ReportFilters {
  status?: ReportStatus;
  reason?: ReportReason;
  reportedUserId?: number;
  /** The last report id of the page before. */
  afterId?: number;
  limit: number;
}

/**
 * Reports in queue order, one page after the cursor (keyset, not offset). The order is the id's,
 * which is the order of filing: `created_at` carries microseconds a cursor read through a
 * JavaScript Date would lose, so it could not resume exactly.
 */
export function listReports(db: Kysely<Database>, filters: ReportFilters) {
  const { status, reason, reportedUserId, afterId, limit } = filters;
  return db
    .selectFrom('reports')
    .selectAll()
    .$if(status !== undefined, (q) => q.where('status', '=', status!))
    .$if(reason !== undefined, (q) => q.where('reason', '=', reason!))
    .$if(reportedUserId !== undefined, (q) => q.where('reported_user_id', '=', reportedUserId!))
    .$if(afterId !== undefined, (q) => q.where('id', '>', afterId!))
    .orderBy('id')
    .limit(limit)
    .execute();
}

export function findReport(db: Kysely<Database>, reportId: number) {
  return db.selectFrom('reports').selectAll().where('id', '=', reportId).executeTakeFirst();
}

/**
 * Closes an open report with its outcome, if it is still open: the conditional UPDATE is what
 * makes two moderators resolving it at once resolve it once. Undefined when it was not open.
 */
export function closeReport(
  trx: Transaction<Database>,
  reportId: number,
  { resolution, moderatorId }: { resolution: ReportResolution; moderatorId: number },
) {
  return trx
    .updateTable('reports')
    .set({
      status: resolution === 'dismiss' ? 'dismissed' : 'resolved',
      resolution,
      resolved_by: moderatorId,
      resolved_at: sql`now()`,
    })
    .where('id', '=', reportId)
    .where('status', 'in', ['open', 'reviewing'])
    .returningAll()
    .executeTakeFirst();
}

/** Suspends (until a time) or bans (`until` null) the user, replacing any earlier sanction. */
export async function restrictAccount(
  trx: Transaction<Database>,
  restriction: { userId: number; until: Date | null; reason: string; moderatorId: number },
): Promise<void> {
  const row = {
    user_id: restriction.userId,
    kind: restriction.until === null ? ('banned' as const) : ('suspended' as const),
    until: restriction.until,
    reason: restriction.reason,
    imposed_by: restriction.moderatorId,
    imposed_at: sql<Date>`now()`,
  };
  await trx
    .insertInto('account_restrictions')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ ...row, user_id: undefined }))
    .execute();
}

/** A sanction still in force: a ban, or a suspension whose end is ahead. */
export const inForce = (until: Expression<Date | null>): Expression<SqlBool> =>
  sql<SqlBool>`(${until} IS NULL OR ${until} > now())`;

/** Ids of users under a sanction in force: few, so queries hash them (`NOT IN`). */
export function restrictedUserIds(db: Kysely<Database>) {
  return db
    .selectFrom('account_restrictions as r')
    .select('r.user_id as id')
    .where(inForce(sql.ref('r.until')));
}

/** The user's sanction in force, if any. */
export function findRestriction(db: Kysely<Database>, userId: number) {
  return db
    .selectFrom('account_restrictions as r')
    .select(['r.kind', 'r.until', 'r.reason'])
    .where('r.user_id', '=', userId)
    .where(inForce(sql.ref('r.until')))
    .executeTakeFirst();
}

/** Ends every active match of the user (`unmatched`, by nobody): a sanction takes them out. */
export function endActiveMatchesOf(trx: Transaction<Database>, userId: number) {
  return trx
    .updateTable('matches')
    .set({ status: 'unmatched', ended_at: sql`now()`, ended_by: null })
    .where(eitherSide(userId))
    .where('status', '=', 'active')
    .returning(['id', 'user_a', 'user_b'])
    .execute();
}

/** Appends one record to the audit table; it can never be changed or removed afterwards. */
export function recordModerationAction(
  trx: Transaction<Database> | Kysely<Database>,
  action: {
    moderatorId: number;
    action: ModerationActionKind;
    targetUserId: number | null;
    reportId?: number | null;
    reason: string;
    until?: Date | null;
  },
) {
  return trx
    .insertInto('moderation_actions')
    .values({
      moderator_id: action.moderatorId,
      action: action.action,
      target_user_id: action.targetUserId,
      report_id: action.reportId ?? null,
      reason: action.reason,
      until: action.until ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The audit records about a user, newest first. */
export function listModerationActions(db: Kysely<Database>, targetUserId: number) {
  return db
    .selectFrom('moderation_actions')
    .selectAll()
    .where('target_user_id', '=', targetUserId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/**
 * Profiles waiting for review, oldest change first, one page after the cursor. `changed` is
 * `updated_at` as PostgreSQL prints it, microseconds included: the cursor a page ends with, which
 * a JavaScript Date (milliseconds) could not carry exactly.
 */
export function listPendingProfiles(
  db: Kysely<Database>,
  { after, limit }: { after?: { changed: string; id: number }; limit: number },
) {
  return db
    .selectFrom('users')
    .select(['id', 'display_name', 'bio', 'photo_url', 'updated_at'])
    .select(sql<string>`updated_at::text`.as('changed'))
    .where('verification_status', '=', 'pending')
    .where('deleted_at', 'is', null)
    .$if(after !== undefined, (q) =>
      q.where(
        sql<SqlBool>`(updated_at, id) > (${after!.changed}::timestamptz, ${after!.id}::bigint)`,
      ),
    )
    .orderBy('updated_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Approves or rejects a pending profile, with the reason its owner is shown (rejection). Undefined
 * when the profile is not pending (reviewed meanwhile, deleted, or unknown).
 */
export function reviewProfile(
  trx: Transaction<Database>,
  userId: number,
  decision: { status: 'approved' | 'rejected'; note: string | null },
) {
  return trx
    .updateTable('users')
    .set({ verification_status: decision.status, verification_note: decision.note })
    .where('id', '=', userId)
    .where('verification_status', '=', 'pending')
    .where('deleted_at', 'is', null)
    .returning(['id', 'verification_status', 'verification_note'])
    .executeTakeFirst();
}

/**
 * Puts a live profile back in the review queue (a new photo was uploaded): pending, no rejection
 * note, changed now.
 */
export async function requestProfileReview(
  db: Kysely<Database> | Transaction<Database>,
  userId: number,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ verification_status: 'pending', verification_note: null, updated_at: new Date() })
    .where('id', '=', userId)
    .where('deleted_at', 'is', null)
    .execute();
}

/** Seconds since the oldest open report was filed; 0 with none open. */
export async function oldestOpenReportAgeSeconds(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('reports')
    .select(sql<number>`extract(epoch FROM now() - min(created_at))::float8`.as('age'))
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(row?.age ?? 0);
}
