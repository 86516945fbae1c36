import type { ConnectionState } from '../store';

const LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** The chat connection's state, announced politely to screen readers when it changes. */
export function ConnectionBadge({ state }: { state: ConnectionState }) {
  return (
    <span class={`badge badge-${state}`} role="status" data-state={state} aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
