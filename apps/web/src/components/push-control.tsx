import { useEffect, useState } from 'preact/hooks';
import { initialPushState, turnOffPush, turnOnPush, type PushState } from '../push';
import type { Session } from '../session';
import { describeError } from '../store';

/**
 * Turns push notifications on and off for this browser (docs/design.md §9.1). Not shown while
 * the server has push off; otherwise it always says where things stand.
 */
export function PushControl({ session }: { session: Session }) {
  const [state, setState] = useState<PushState>({ name: 'loading' });

  useEffect(() => {
    let live = true;
    initialPushState(session.rest).then(
      (initial) => live && setState(initial),
      // Server unreachable: the connection banner says so; the control stays away until a reload.
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [session]);

  const run = (action: (rest: Session['rest']) => Promise<PushState>) => {
    setState({ name: 'working' });
    action(session.rest).then(setState, (error: unknown) =>
      setState({ name: 'error', message: describeError(error) }),
    );
  };

  if (state.name === 'loading') return null;
  // An empty marker, so that "push is off" can be told apart from "not known yet".
  if (state.name === 'hidden') return <span class="push-control" data-state="hidden" hidden />;
  return (
    <div class="push-control" data-state={state.name} aria-label="Notifications" role="group">
      {state.name === 'unsupported' && (
        <span class="muted">This browser cannot show notifications.</span>
      )}
      {state.name === 'denied' && (
        <span class="muted">Notifications are blocked in this browser’s site settings.</span>
      )}
      {(state.name === 'off' || state.name === 'working') && (
        <button type="button" disabled={state.name === 'working'} onClick={() => run(turnOnPush)}>
          {state.name === 'working' ? 'Turning on…' : 'Turn on notifications'}
        </button>
      )}
      {state.name === 'on' && (
        <>
          <span role="status">Notifications on</span>
          <button type="button" onClick={() => run(turnOffPush)}>
            Turn off notifications
          </button>
        </>
      )}
      {state.name === 'error' && (
        <>
          <span role="alert">{state.message}</span>
          <button type="button" onClick={() => run(turnOnPush)}>
            Try notifications again
          </button>
        </>
      )}
    </div>
  );
}
