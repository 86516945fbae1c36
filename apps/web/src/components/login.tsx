import { useState } from 'preact/hooks';
import { signIn, type DemoRole, type Session } from '../session';
import { describeError } from '../store';
import { FormError } from './form-error';

/** Demo sign-in: any user id, through the development token endpoint. */
export function Login({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [userId, setUserId] = useState('1');
  const [role, setRole] = useState<DemoRole>('user');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await signIn(Number(userId), role));
    } catch (e) {
      setError(describeError(e));
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1 class="brand">Mystery Match</h1>
      <p>
        Chat with a stranger whose profile unlocks as the conversation grows. This demo signs you in
        as any user id: open a second tab as another user to chat with yourself.
      </p>
      <form class="card" onSubmit={submit}>
        <label for="login-user">Demo user id</label>
        <input
          id="login-user"
          name="user_id"
          type="number"
          min={1}
          step={1}
          required
          inputMode="numeric"
          value={userId}
          onInput={(e) => setUserId(e.currentTarget.value)}
        />
        <label for="login-role">Role</label>
        <select
          id="login-role"
          name="role"
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as DemoRole)}
        >
          <option value="user">User</option>
          <option value="moderator">Moderator</option>
          <option value="admin">Admin</option>
        </select>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <FormError error={error} />
      </form>
    </main>
  );
}
