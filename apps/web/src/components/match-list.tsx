import { useState } from 'preact/hooks';
import type { DemoMatch, Gender, MatchFilters } from '../match-api';
import { describeError, type DemoStore } from '../store';
import { useStore } from '../use-store';
import { FormError } from './form-error';

interface Props {
  store: DemoStore;
  selected: number | undefined;
  onOpen: (matchId: number) => void;
}

/** The user's matches, newest first, and the button that finds a new one. */
export function MatchList({ store, selected, onOpen }: Props) {
  useStore(store);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const find = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const value = (name: string) => String(form.get(name) ?? '').trim();
    const filters: MatchFilters = {
      ...(value('gender') && { gender: value('gender') as Gender }),
      ...(value('min_age') && { min_age: Number(value('min_age')) }),
      ...(value('max_age') && { max_age: Number(value('max_age')) }),
      ...(value('city') && { city: value('city') }),
    };
    setBusy(true);
    setError(undefined);
    try {
      const match: DemoMatch = await store.session.rest.findMatch(store.session.userId, filters);
      store.added(match);
      onOpen(match.id);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  const active = store.matches.filter((m) => m.status === 'active');
  const ended = store.matches.filter((m) => m.status !== 'active');

  return (
    <section class="panel matches" aria-labelledby="matches-title">
      <h2 id="matches-title">Matches</h2>
      <form class="find" onSubmit={find}>
        <details>
          <summary>Filters</summary>
          <div class="filters">
            <label for="f-gender">Gender</label>
            <select id="f-gender" name="gender">
              <option value="">Anyone</option>
              <option value="female">Female</option>
              <option value="male">Male</option>
              <option value="nonbinary">Non-binary</option>
            </select>
            <label for="f-min">Age from</label>
            <input id="f-min" name="min_age" type="number" min={18} max={120} />
            <label for="f-max">Age to</label>
            <input id="f-max" name="max_age" type="number" min={18} max={120} />
            <label for="f-city">City</label>
            <input id="f-city" name="city" maxLength={100} />
          </div>
        </details>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Looking…' : 'Find a match'}
        </button>
        <FormError error={error} />
      </form>
      {store.matches.length === 0 && <p class="muted">No matches yet.</p>}
      <ul class="match-list">
        {[...active, ...ended].map((match) => {
          // What this page holds of the chat when loaded; the server's count otherwise.
          const unread =
            store.messages
              .get(match.id)
              ?.filter(
                (m) =>
                  m.sender_id !== store.session.userId && !m.deleted && m.seq > match.last_read_seq,
              ).length ?? match.unread_count;
          const preview = store.preview(match);
          return (
            <li key={match.id}>
              <button
                type="button"
                class="match-item"
                aria-current={match.id === selected ? 'true' : undefined}
                onClick={() => onOpen(match.id)}
              >
                <span class="match-name">{match.partner?.display_name ?? 'Mystery User'}</span>
                <span class="match-meta">
                  {match.status === 'active'
                    ? `Level ${match.partner?.level ?? 0} · ${match.message_count} messages`
                    : `Ended (${match.status})`}
                </span>
                {preview && (
                  <span class="match-preview" data-testid="match-preview">
                    {preview.mine ? 'You: ' : ''}
                    {preview.deleted ? <em>Message deleted</em> : preview.body}
                  </span>
                )}
                {!!unread && match.id !== selected && (
                  <span class="unread" aria-label={`${unread} unread`}>
                    {unread}
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
