import { useState } from 'preact/hooks';
import { REPORT_REASONS, type DemoMatch, type ReportReason } from '../match-api';
import { describeError, isNetworkError, type DemoStore } from '../store';

type Confirm = 'unmatch' | 'block' | 'report' | undefined;

/** Extend, secret chat, unmatch, block and report for one match. */
export function MatchActions({ store, match }: { store: DemoStore; match: DemoMatch }) {
  const { rest, userId } = store.session;
  const [confirm, setConfirm] = useState<Confirm>();
  const [status, setStatus] = useState<string>();
  const [busy, setBusy] = useState(false);

  /** Runs an action; the match it returns (or the pushed event after it) updates the screen. */
  const run = async (action: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setStatus(undefined);
    try {
      const result = await action();
      if (isMatch(result)) store.upsert(result);
      setStatus(done);
      setConfirm(undefined);
    } catch (e) {
      // No server at all: the banner says so until the connection is back.
      if (isNetworkError(e)) store.fail(e);
      else setStatus(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const secret = match.secret_chat;
  const active = match.status === 'active';

  const submitReport = (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const reason = String(form.get('reason')) as ReportReason;
    const details = String(form.get('details') ?? '').trim() || undefined;
    void run(
      () => rest.report({ match_id: match.id, reason, ...(details && { details }) }),
      'Thanks: the report was sent.',
    );
  };

  return (
    <div class="actions">
      <p class="expiry">
        {active ? (
          <>
            Ends <time dateTime={match.expires_at}>{formatWhen(match.expires_at)}</time>
            {match.extended_count > 0 &&
              ` · extended ${match.extended_count === 1 ? 'once' : `${match.extended_count} times`}`}
          </>
        ) : (
          `This match has ended (${match.status}).`
        )}
      </p>
      <div class="action-row" role="group" aria-label="Match actions">
        {active && (
          <button
            type="button"
            disabled={busy}
            onClick={() => run(() => rest.extendMatch(match.id), 'Extended by 24 hours.')}
          >
            Extend 24 h
          </button>
        )}
        {active && secret === 'none' && (
          <button
            type="button"
            disabled={busy}
            onClick={() => run(() => rest.requestSecretChat(match.id), 'Secret chat requested.')}
          >
            Request secret chat
          </button>
        )}
        {active && secret === 'requested' && match.secret_requested_by !== userId && (
          <button
            type="button"
            class="primary"
            disabled={busy}
            onClick={() => run(() => rest.acceptSecretChat(match.id), 'Secret chat accepted.')}
          >
            Accept secret chat
          </button>
        )}
        <details class="more">
          <summary>More</summary>
          <div class="action-row">
            {active && (
              <button type="button" disabled={busy} onClick={() => setConfirm('unmatch')}>
                Unmatch
              </button>
            )}
            <button type="button" disabled={busy} onClick={() => setConfirm('block')}>
              Block
            </button>
            <button type="button" disabled={busy} onClick={() => setConfirm('report')}>
              Report
            </button>
          </div>
        </details>
      </div>
      {active && secret === 'requested' && match.secret_requested_by === userId && (
        <p class="muted">Secret chat requested: waiting for your match to accept.</p>
      )}
      {secret === 'active' && (
        <p class="secret-on">
          Secret chat is on: new messages vanish 24 hours after they are sent.
        </p>
      )}
      {(confirm === 'unmatch' || confirm === 'block') && (
        <div class="confirm" role="group" aria-label={`Confirm ${confirm}`}>
          <p>
            {confirm === 'unmatch'
              ? 'End this match for both of you?'
              : 'Block this person? The match ends and neither of you will be matched again.'}
          </p>
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() =>
              confirm === 'unmatch'
                ? run(() => rest.unmatch(match.id), 'You unmatched.')
                : run(async () => {
                    await rest.block(match.partner_id);
                    store.patch(match.id, { status: 'blocked' });
                  }, 'Blocked.')
            }
          >
            {confirm === 'unmatch' ? 'Yes, unmatch' : 'Yes, block'}
          </button>
          <button type="button" onClick={() => setConfirm(undefined)}>
            Cancel
          </button>
        </div>
      )}
      {confirm === 'report' && (
        <form class="confirm form" onSubmit={submitReport} aria-label="Report this match">
          <label for="r-reason">Reason</label>
          <select id="r-reason" name="reason" required>
            {REPORT_REASONS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <label for="r-details">Details (optional)</label>
          <textarea id="r-details" name="details" rows={2} maxLength={2000} />
          <div class="action-row">
            <button type="submit" class="danger" disabled={busy}>
              Send report
            </button>
            <button type="button" onClick={() => setConfirm(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {status && (
        <p class="muted" role="status">
          {status}
        </p>
      )}
    </div>
  );
}

const isMatch = (value: unknown): value is DemoMatch =>
  typeof value === 'object' && value !== null && 'partner_id' in value && 'status' in value;

function formatWhen(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}
