import type { ProfileView } from '@mm/client';
import { useEffect, useState } from 'preact/hooks';
import { ChatPanel } from './components/chat-panel';
import { ConnectionBadge } from './components/connection-badge';
import { Login } from './components/login';
import { MatchList } from './components/match-list';
import { ModerationDesk } from './components/moderation-desk';
import { ProfileForm } from './components/profile-form';
import { PushControl } from './components/push-control';
import { restoreSession, signOut, type Session } from './session';
import { DemoStore, describeError, isNetworkError } from './store';
import { useStore } from './use-store';

export function App() {
  const [session, setSession] = useState<Session | undefined>(restoreSession);
  if (!session) return <Login onSignedIn={setSession} />;
  return (
    <SignedIn
      key={session.userId}
      session={session}
      onSignOut={() => {
        signOut();
        setSession(undefined);
      }}
    />
  );
}

type Screen =
  | { name: 'profile' }
  | { name: 'matches' }
  | { name: 'chat'; matchId: number }
  | { name: 'moderation' };

function SignedIn({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [store] = useState(() => new DemoStore(session));
  const [profile, setProfile] = useState<ProfileView | null | undefined>(undefined);
  const [screen, setScreen] = useState<Screen>({ name: 'matches' });
  const [loadError, setLoadError] = useState<string>();
  useStore(store);

  useEffect(() => {
    void store.start();
    return () => store.stop();
  }, [store]);

  // The profile, loaded again once connected if the first try found no server.
  const reconnected = store.connection === 'connected';
  useEffect(() => {
    if (profile !== undefined) return;
    setLoadError(undefined);
    session.rest.request<ProfileView>('GET', '/api/users/me').then(setProfile, (error: unknown) => {
      if ((error as { status?: number }).status === 404) setProfile(null);
      else if (isNetworkError(error)) store.fail(error);
      else setLoadError(describeError(error));
    });
  }, [session, store, profile, reconnected]);

  useEffect(() => {
    store.openMatchId = screen.name === 'chat' ? screen.matchId : undefined;
    if (screen.name === 'chat') store.markRead(screen.matchId);
  }, [screen, store]);

  const needsProfile = profile === null;
  // The moderation view needs no profile of the moderator's own.
  const current: Screen =
    needsProfile && screen.name !== 'moderation' ? { name: 'profile' } : screen;

  return (
    <div class="shell">
      <header class="topbar">
        <h1 class="brand">Mystery Match</h1>
        <ConnectionBadge state={store.connection} />
        {store.unreadTotal > 0 && (
          <span class="unread-total" data-testid="unread-total" aria-label="Unread messages">
            {store.unreadTotal} unread
          </span>
        )}
        <span class="who" aria-label="Signed in as">
          {profile?.display_name ?? 'New user'} · #{session.userId}
        </span>
        <PushControl session={session} />
        <nav class="nav" aria-label="Main">
          <button
            type="button"
            aria-current={
              current.name === 'matches' || current.name === 'chat' ? 'page' : undefined
            }
            disabled={needsProfile}
            onClick={() => setScreen({ name: 'matches' })}
          >
            Matches
          </button>
          <button
            type="button"
            aria-current={current.name === 'profile' ? 'page' : undefined}
            onClick={() => setScreen({ name: 'profile' })}
          >
            Profile
          </button>
          {session.role !== 'user' && (
            <button
              type="button"
              aria-current={current.name === 'moderation' ? 'page' : undefined}
              onClick={() => setScreen({ name: 'moderation' })}
            >
              Moderation
            </button>
          )}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </nav>
      </header>
      {store.connectionNotice && (
        <div class="notice notice-connection" role="status">
          <span>{store.connectionNotice}</span>
        </div>
      )}
      {(loadError ?? store.notice) && (
        <div class="notice" role="alert">
          <span>{loadError ?? store.notice}</span>
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => {
              setLoadError(undefined);
              store.dismissNotice();
            }}
          >
            ×
          </button>
        </div>
      )}
      <main class={`content screen-${current.name}`}>
        {profile === undefined && !loadError ? (
          <p class="muted">Loading…</p>
        ) : current.name === 'moderation' ? (
          <ModerationDesk session={session} />
        ) : current.name === 'profile' ? (
          <ProfileForm
            session={session}
            profile={profile ?? undefined}
            onSaved={(saved) => {
              setProfile(saved);
              setScreen({ name: 'matches' });
            }}
          />
        ) : (
          <div class="split">
            <MatchList
              store={store}
              selected={current.name === 'chat' ? current.matchId : undefined}
              onOpen={(matchId) => setScreen({ name: 'chat', matchId })}
            />
            {current.name === 'chat' ? (
              <ChatPanel
                store={store}
                matchId={current.matchId}
                onBack={() => setScreen({ name: 'matches' })}
              />
            ) : (
              <section class="panel placeholder" aria-label="Chat">
                <p class="muted">Pick a match, or find a new one, to start chatting.</p>
              </section>
            )}
          </div>
        )}
      </main>
    </div>
  );
}
