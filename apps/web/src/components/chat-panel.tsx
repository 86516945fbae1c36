import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { DemoStore } from '../store';
import { useStore } from '../use-store';
import { MatchActions } from './match-actions';
import { PartnerCard } from './partner-card';

interface Props {
  store: DemoStore;
  matchId: number;
  onBack: () => void;
}

/** One conversation: the partner, the match's actions, the messages and the composer. */
export function ChatPanel({ store, matchId, onBack }: Props) {
  useStore(store);
  const match = store.match(matchId);
  const me = store.session.userId;
  const messages = store.messages.get(matchId) ?? [];
  const pending = store.pending.get(matchId) ?? [];
  const partnerRead = store.partnerRead.get(matchId) ?? 0;
  const partnerDelivered = store.partnerDelivered.get(matchId) ?? 0;
  const lastOwn = messages.findLast((m) => m.sender_id === me);
  const listRef = useRef<HTMLDivElement>(null);
  const [draft, setDraft] = useState('');

  useEffect(() => {
    if (match) void store.loadPresence(match);
  }, [store, matchId, !match]);

  // The list is laid out bottom up (column-reverse), so the browser keeps its newest message in
  // view as messages come and as its box shrinks (the partner card grows at an unlock).
  // Sending brings the newest back into view for a reader who had scrolled back.
  useEffect(() => {
    const list = listRef.current;
    if (list && pending.length > 0) list.scrollTop = list.scrollHeight;
  }, [pending.length]);
  // A reader at the newest message stays there whatever changed in this render: a bubble that
  // grew (its ✓/✓✓ mark, its Unsend link, a stored copy replacing the pending one) can make the
  // browser's scroll anchoring move the list off its end. Scrolled back, they stay where they are.
  const atNewest = useRef(true);
  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && atNewest.current) list.scrollTop = list.scrollHeight;
  });

  if (!match) {
    return (
      <section class="panel chat" aria-label="Chat">
        <p class="muted">This match is not available.</p>
      </section>
    );
  }
  const active = match.status === 'active';

  const submit = (event: Event) => {
    event.preventDefault();
    const body = draft.trim();
    if (!body) return;
    store.send(matchId, body);
    setDraft('');
  };

  return (
    <section class="panel chat" aria-label="Chat">
      <div class="chat-head">
        <button type="button" class="back" aria-label="Back to matches" onClick={onBack}>
          ← Matches
        </button>
        <PartnerCard store={store} match={match} />
        <MatchActions store={store} match={match} />
      </div>
      <div
        class="messages"
        ref={listRef}
        role="log"
        aria-label="Messages"
        aria-live="polite"
        onScroll={(event) => {
          // Bottom up (column-reverse): 0 is the newest end, older messages lie below 0.
          atNewest.current = event.currentTarget.scrollTop >= -4;
        }}
      >
        <div>
          {store.earlier.has(matchId) && (
            <button
              type="button"
              class="link earlier"
              onClick={() => void store.loadEarlier(matchId)}
            >
              Show earlier messages
            </button>
          )}
          <ol class="message-list">
            {messages.map((message) => {
              const mine = message.sender_id === me;
              return (
                <li
                  key={`${message.seq}`}
                  class={`message ${mine ? 'mine' : 'theirs'}`}
                  data-seq={message.seq}
                >
                  <span class="visually-hidden">{mine ? 'You: ' : 'Them: '}</span>
                  {message.deleted ? (
                    <span class="body deleted">Message deleted</span>
                  ) : (
                    <span class="body">{message.body}</span>
                  )}
                  {mine && !message.deleted && (
                    <ReceiptMark
                      read={message.seq <= partnerRead}
                      delivered={message.seq <= partnerDelivered}
                    />
                  )}
                  {store.canUnsend(message) && (
                    <button
                      type="button"
                      class="link unsend"
                      aria-label={`Unsend message ${message.seq}`}
                      onClick={() => void store.unsend(matchId, message.seq)}
                    >
                      Unsend
                    </button>
                  )}
                  {message.is_secret && (
                    <span class="secret" title="Secret: vanishes after 24 hours">
                      {' '}
                      secret
                    </span>
                  )}
                  {mine && message === lastOwn && message.seq <= partnerRead && (
                    <span class="receipt" data-testid="read-receipt">
                      Seen
                    </span>
                  )}
                </li>
              );
            })}
            {pending.map((item) => (
              <li key={item.client_id} class="message mine pending" data-pending="true">
                <span class="visually-hidden">You: </span>
                <span class="body">{item.body}</span>
                <span class="receipt">
                  {item.error ? (
                    <>
                      Not sent: {item.error}{' '}
                      <button
                        type="button"
                        class="link"
                        onClick={() => store.dismissPending(matchId, item.client_id)}
                      >
                        Dismiss
                      </button>
                    </>
                  ) : store.connection === 'connected' ? (
                    'Sending…'
                  ) : (
                    'Waiting for connection…'
                  )}
                </span>
              </li>
            ))}
          </ol>
        </div>
      </div>
      <p class="typing" aria-live="polite" data-testid="typing">
        {store.typing.has(matchId) ? `${match.partner.display_name} is typing…` : ''}
      </p>
      {active ? (
        <form class="composer" onSubmit={submit}>
          <label for="composer-input" class="visually-hidden">
            Message
          </label>
          <input
            id="composer-input"
            autoComplete="off"
            maxLength={4000}
            placeholder="Say something…"
            value={draft}
            onInput={(e) => {
              setDraft(e.currentTarget.value);
              if (e.currentTarget.value) store.typingOn(matchId);
              else store.typingOff(matchId);
            }}
            onBlur={() => store.typingOff(matchId)}
          />
          <button type="submit" class="primary" disabled={!draft.trim()}>
            Send
          </button>
        </form>
      ) : (
        <p class="muted">This match has ended; the chat is read-only.</p>
      )}
    </section>
  );
}

/** ✓ delivered to a device of the partner, ✓✓ read (read implies delivered); none: sent. */
function ReceiptMark({ read, delivered }: { read: boolean; delivered: boolean }) {
  const state = read ? 'read' : delivered ? 'delivered' : 'sent';
  if (state === 'sent') return null;
  return (
    <span
      class={`mark mark-${state}`}
      data-testid="receipt-mark"
      data-state={state}
      title={state === 'read' ? 'Read' : 'Delivered'}
    >
      {state === 'read' ? ' ✓✓' : ' ✓'}
    </span>
  );
}
