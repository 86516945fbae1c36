import { ApiError, ChatClient, ChatError, type MessageView } from '@mm/client';
import type { DemoMatch } from './match-api';
import { apiOrigin, type Session } from './session';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

/** A message typed here and not yet stored: it waits in the SDK's outbox until acked. */
export interface PendingMessage {
  client_id: string;
  body: string;
  /** Set when the server refused it for good. */
  error?: string;
}

const HISTORY_PAGE = 50;
/** Picks up what the partner changed (extend, secret chat, unmatch) while the chat is open. */
const REFRESH_MS = 5_000;
const TYPING_SHOWN_MS = 4_000;

const newClientId = (): string =>
  typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

export const describeError = (error: unknown): string =>
  error instanceof ApiError || error instanceof ChatError
    ? error.error.message
    : error instanceof Error
      ? error.message
      : String(error);

/**
 * The demo's state: matches (over REST), and the chat through the SDK's `ChatClient`, which owns
 * reconnecting, replay, de-duplication and the outbox. This class only keeps what the screen shows
 * and tells the components when it changed.
 */
export class DemoStore {
  matches: DemoMatch[] = [];
  readonly messages = new Map<number, MessageView[]>();
  readonly pending = new Map<number, PendingMessage[]>();
  /** Matches whose partner is typing right now. */
  readonly typing = new Set<number>();
  /** Per match: the partner has read up to this seq. */
  readonly partnerRead = new Map<number, number>();
  /** Per user id: online or not, as the last presence event said. */
  readonly presence = new Map<number, boolean>();
  connection: ConnectionState = 'connecting';
  notice: string | undefined;
  /** The match on screen: its partner's messages are marked read as they arrive. */
  openMatchId: number | undefined;

  private readonly chat: ChatClient;
  private readonly listeners = new Set<() => void>();
  private readonly typingTimers = new Map<number, ReturnType<typeof setTimeout>>();
  private refreshTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  constructor(readonly session: Session) {
    this.chat = new ChatClient({ url: apiOrigin(), token: session.token });
    this.chat
      .on('ready', () => this.setConnection('connected'))
      .on('disconnected', () => this.setConnection(navigator.onLine ? 'reconnecting' : 'offline'))
      .on('message', (message) => this.onMessage(message))
      .on('match', () => void this.refreshMatches())
      .on('unlocked', (event) => {
        const match = this.match(event.match_id);
        if (!match) return;
        match.partner = event.partner;
        this.changed();
      })
      .on('typing', (event) => {
        if (event.user_id === this.session.userId) return;
        this.showTyping(event.match_id, event.is_typing);
      })
      .on('read', (event) => {
        if (event.user_id === this.session.userId) return;
        const before = this.partnerRead.get(event.match_id) ?? 0;
        this.partnerRead.set(event.match_id, Math.max(before, event.seq));
        this.changed();
      })
      .on('presence', (presence) => {
        this.presence.set(presence.user_id, presence.online);
        this.changed();
      })
      .on('error', (error) => {
        this.notice = error.message;
        if (error.code === 'MATCH_NOT_ACTIVE') void this.refreshMatches();
        this.changed();
      });
  }

  /** Loads the matches and their latest messages, then connects (the SDK replays the rest). */
  async start(): Promise<void> {
    window.addEventListener('offline', this.onOffline);
    window.addEventListener('online', this.onOnline);
    await this.refreshMatches();
    await Promise.all(
      this.matches.map(async (match) => {
        const page = await this.session.rest.history(match.id, { limit: HISTORY_PAGE });
        this.messages.set(match.id, page.messages);
        this.chat.follow(match.id, page.messages.at(-1)?.seq ?? 0);
      }),
    );
    if (this.stopped) return;
    this.chat.connect();
    this.refreshTimer = setInterval(() => void this.refreshMatches(), REFRESH_MS);
    this.changed();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    this.chat.close();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async refreshMatches(): Promise<void> {
    try {
      this.matches = await this.session.rest.myMatches(this.session.userId);
      for (const match of this.matches) this.chat.follow(match.id);
    } catch (error) {
      this.notice = describeError(error);
    }
    this.changed();
  }

  /** A match found here: followed at once so its first messages are not missed. */
  added(match: DemoMatch): void {
    this.chat.follow(match.id);
    if (!this.matches.some((m) => m.id === match.id)) this.matches = [match, ...this.matches];
    this.changed();
  }

  match(matchId: number): DemoMatch | undefined {
    return this.matches.find((m) => m.id === matchId);
  }

  /** Whether the partner is online now; presence events keep it current afterwards. */
  async loadPresence(match: DemoMatch): Promise<void> {
    try {
      const status = await this.session.rest.onlineStatus(match.id, this.session.userId);
      if (!this.presence.has(status.user_id)) {
        this.presence.set(status.user_id, status.online);
        this.changed();
      }
    } catch {
      // unknown until the next presence event
    }
  }

  /** Shown at once as pending; the SDK sends it now or after the reconnect. */
  send(matchId: number, body: string): void {
    const clientId = newClientId();
    const pending = [...(this.pending.get(matchId) ?? []), { client_id: clientId, body }];
    this.pending.set(matchId, pending);
    this.typingOff(matchId);
    this.changed();
    this.chat.send(matchId, body, clientId).catch((error: unknown) => {
      const item = this.pending.get(matchId)?.find((p) => p.client_id === clientId);
      if (item) item.error = describeError(error);
      this.changed();
    });
  }

  dismissPending(matchId: number, clientId: string): void {
    this.pending.set(
      matchId,
      (this.pending.get(matchId) ?? []).filter((p) => p.client_id !== clientId),
    );
    this.changed();
  }

  private lastTypingSent = new Map<number, number>();

  /** Tells the partner this user is typing (at most every 2 s while keys keep coming). */
  typingOn(matchId: number): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(matchId) ?? 0) < 2_000) return;
    this.lastTypingSent.set(matchId, now);
    this.chat.typing(matchId, true);
  }

  typingOff(matchId: number): void {
    if (!this.lastTypingSent.has(matchId)) return;
    this.lastTypingSent.delete(matchId);
    this.chat.typing(matchId, false);
  }

  /** Marks the open chat read up to its last message from the partner. */
  markRead(matchId: number): void {
    const last = this.messages.get(matchId)?.findLast((m) => m.sender_id !== this.session.userId);
    const match = this.match(matchId);
    if (!last || !match || last.seq <= match.last_read_seq || !this.chat.connected) return;
    match.last_read_seq = last.seq;
    this.chat.markRead(matchId, last.seq).catch(() => {
      match.last_read_seq = 0; // try again on the next message or visit
    });
  }

  dismissNotice(): void {
    this.notice = undefined;
    this.changed();
  }

  private onMessage(message: MessageView): void {
    const list = this.messages.get(message.match_id) ?? [];
    list.push(message);
    if (list.length > 1 && list.at(-2)!.seq > message.seq) list.sort((a, b) => a.seq - b.seq);
    this.messages.set(message.match_id, list);
    if (message.sender_id === this.session.userId) {
      this.dismissPending(message.match_id, message.client_id);
    } else {
      this.showTyping(message.match_id, false);
    }
    const match = this.match(message.match_id);
    if (match) {
      match.message_count = Math.max(match.message_count, message.seq);
      // The partner's profile opens at the server's next level: ask for the new view then.
      const next = match.partner?.next_level_at;
      if (next != null && message.seq >= next) void this.refreshMatches();
    }
    if (
      message.match_id === this.openMatchId &&
      message.sender_id !== this.session.userId &&
      document.visibilityState === 'visible'
    ) {
      this.markRead(message.match_id);
    }
    this.changed();
  }

  private showTyping(matchId: number, isTyping: boolean): void {
    clearTimeout(this.typingTimers.get(matchId));
    if (isTyping) {
      this.typing.add(matchId);
      // A lost "stopped typing" must not leave the indicator on for good.
      this.typingTimers.set(
        matchId,
        setTimeout(() => this.showTyping(matchId, false), TYPING_SHOWN_MS),
      );
    } else {
      this.typing.delete(matchId);
    }
    this.changed();
  }

  private readonly onOffline = () => this.setConnection('offline');
  private readonly onOnline = () => {
    if (!this.chat.connected) this.setConnection('reconnecting');
  };

  private setConnection(state: ConnectionState): void {
    this.connection = state;
    if (state === 'connected' && this.openMatchId !== undefined) this.markRead(this.openMatchId);
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
