import type { ProfileReviewPage, ReportQueuePage } from '@mm/client';
import { useEffect, useState } from 'preact/hooks';
import type { Session } from '../session';
import { describeError } from '../store';
import { FormError } from './form-error';

type DeskReport = ReportQueuePage['reports'][number];
type PendingProfile = ProfileReviewPage['profiles'][number];
const DAY_MS = 24 * 3600_000;

/**
 * The moderator's view (moderators and admins): the open reports with their evidence, each
 * resolved with a reason, and the profiles waiting for review. The first page of each; the API
 * pages further (docs/design.md §3.12, §3.13).
 */
export function ModerationDesk({ session }: { session: Session }) {
  const [reports, setReports] = useState<DeskReport[]>();
  const [profiles, setProfiles] = useState<PendingProfile[]>();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const [loads, setLoads] = useState(0);

  useEffect(() => {
    setError(undefined);
    Promise.all([
      session.rest.request<ReportQueuePage>('GET', '/api/moderation/reports?limit=20'),
      session.rest.request<ProfileReviewPage>('GET', '/api/moderation/profiles?limit=20'),
    ]).then(
      ([queue, review]) => {
        setReports(queue.reports);
        setProfiles(review.profiles);
      },
      (e: unknown) => setError(describeError(e)),
    );
  }, [session, loads]);

  /** Runs a decision with the reason typed above, then reads both queues again. */
  const decide = async (path: string, body: Record<string, unknown>) => {
    if (!reason.trim()) {
      setError('Give a reason first: it is kept in the audit record.');
      return;
    }
    setError(undefined);
    try {
      await session.rest.request('POST', path, { ...body, reason: reason.trim() });
      setReason('');
      setLoads((n) => n + 1);
    } catch (e) {
      setError(describeError(e));
    }
  };

  return (
    <section class="panel moderation" aria-label="Moderation">
      <h2>Moderation</h2>
      <label for="moderation-reason">Reason</label>
      <input
        id="moderation-reason"
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
        placeholder="Why: kept in the audit record, shown on a rejected profile"
      />
      <FormError error={error} />

      <h3>Open reports</h3>
      {reports === undefined ? (
        <p class="muted">Loading…</p>
      ) : reports.length === 0 ? (
        <p class="muted">No open reports.</p>
      ) : (
        <ul class="desk-list">
          {reports.map((report) => (
            <li key={report.id} aria-label={`Report ${report.id}`}>
              <p>
                <strong>{report.reason}</strong> against user #{report.reported_user_id} by #
                {report.reporter_id}
                {report.repeat_count > 1 && ` (filed ${report.repeat_count} times)`}
              </p>
              {report.details && <p>{report.details}</p>}
              <ol class="evidence" aria-label="Evidence">
                {report.evidence.map((message) => (
                  <li key={message.id}>
                    #{message.sender_id ?? '?'}: {message.body}
                  </li>
                ))}
              </ol>
              <div class="actions">
                {(['dismiss', 'warn', 'ban'] as const).map((action) => (
                  <button
                    key={action}
                    type="button"
                    onClick={() =>
                      void decide(`/api/moderation/reports/${report.id}/resolve`, { action })
                    }
                  >
                    {action[0]!.toUpperCase() + action.slice(1)}
                  </button>
                ))}
                <button
                  type="button"
                  onClick={() =>
                    void decide(`/api/moderation/reports/${report.id}/resolve`, {
                      action: 'suspend',
                      until: new Date(Date.now() + DAY_MS).toISOString(),
                    })
                  }
                >
                  Suspend a day
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}

      <h3>Profiles to review</h3>
      {profiles === undefined ? (
        <p class="muted">Loading…</p>
      ) : profiles.length === 0 ? (
        <p class="muted">No profiles waiting.</p>
      ) : (
        <ul class="desk-list">
          {profiles.map((profile) => (
            <li key={profile.user_id} aria-label={`Profile ${profile.user_id}`}>
              <p>
                <strong>{profile.display_name}</strong> #{profile.user_id}
              </p>
              {profile.bio && <p>{profile.bio}</p>}
              <div class="actions">
                {(['approve', 'reject'] as const).map((verdict) => (
                  <button
                    key={verdict}
                    type="button"
                    onClick={() =>
                      void decide(`/api/moderation/profiles/${profile.user_id}/${verdict}`, {})
                    }
                  >
                    {verdict === 'approve' ? 'Approve' : 'Reject'}
                  </button>
                ))}
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
