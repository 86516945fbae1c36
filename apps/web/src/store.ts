import {
  ApiError,
  ChatClient,
  ChatError,
  type HistoryPage,
  type MatchView,
  type MessageView,
} from '@mm/client';
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
/** The server's default unsend window (`UNSEND_WINDOW_SECONDS`). */
const UNSEND_WINDOW_MS = 600_000;
const TYPING_SHOWN_MS = 4_000;

export const OFFLINE_NOTICE =
  'You are offline. What you write waits here and is sent once the connection is back.';
export const UNREACHABLE_NOTICE =
  'The demo cannot reach the server right now. It keeps trying and reconnects by itself.';

const newClientId = (): string =>
  typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

/** `fetch` rejects with a TypeError when no answer came at all (offline, server down). */
export const isNetworkError = (error: unknown): boolean => error instanceof TypeError;

export const describeError = (error: unknown): string =>
  error instanceof ApiError || error instanceof ChatError
    ? error.error.message
    : isNetworkError(error)
      ? UNREACHABLE_NOTICE
      : error instanceof Error
        ? error.message
        : String(error);

/**
 * The demo's state: matches (over REST, then kept current by the events the server pushes), and
 * the chat through the SDK's `ChatClient`, which owns reconnecting, replay, de-duplication and the
 * outbox. This class only keeps what the screen shows and tells the components when it changed.
 *
 * A match's messages have one source of truth, keyed by seq: the latest history page and what the
 * SDK delivers afterwards (live or replayed) are merged into it, so a message that comes both ways
 * is shown once.
 */
export class DemoStore {
  matches: DemoMatch[] = [];
  /** Per match: the stored messages, in seq order, each seq once. */
  readonly messages = new Map<number, MessageView[]>();
  /** Per match: where the next older history page starts; absent once the first message is in. */
  readonly earlier = new Map<number, number>();
  readonly pending = new Map<number, PendingMessage[]>();
  /** Matches whose partner is typing right now. */
  readonly typing = new Set<number>();
  /** Per match: the partner has read up to this seq. */
  readonly partnerRead = new Map<number, number>();
  /** Per match: the partner's devices got the messages up to this seq. */
  readonly partnerDelivered = new Map<number, number>();
  /** The user's unread messages over all matches, as the server last said (`unread:total`). */
  unreadTotal = 0;
  /** Per user id: online or not, as the last presence event said. */
  readonly presence = new Map<number, boolean>();
  connection: ConnectionState = 'connecting';
  /** A refusal or failure to show until dismissed. */
  notice: string | undefined;
  /** A REST call found no server: said until the connection is back. */
  unreachable = false;
  /** The match on screen: its partner's messages are marked read as they arrive. */
  openMatchId: number | undefined;

  private readonly chat: ChatClient;
  private readonly listeners = new Set<() => void>();
  private readonly typingTimers = new Map<number, ReturnType<typeof setTimeout>>();
  /** Matches whose latest history page is in (or that are new): the SDK follows them. */
  private readonly loaded = new Set<number>();
  private readonly seqs = new Map<number, Set<number>>();
  /** Pushed events may have been missed (a disconnect, a failed load): refresh once when ready. */
  private stale = false;
  private stopped = false;

  constructor(readonly session: Session) {
    this.chat = new ChatClient({ url: apiOrigin(), token: session.token });
    this.chat
      .on('ready', () => this.onReady())
      .on('disconnected', () => {
        this.stale = true;
        this.setConnection(navigator.onLine ? 'reconnecting' : 'offline');
      })
      .on('message', (message) => this.onMessage(message))
      .on('match', (match) => {
        // New: nothing to load, and the SDK follows it from its first message.
        this.loaded.add(match.id);
        this.upsert(match);
      })
      .on('unlocked', (event) => this.patch(event.match_id, { partner: event.partner }))
      // A partner suspended or banned by a moderator: the match is stored as unmatched.
      .on('ended', (event) =>
        this.patch(event.match_id, {
          status: event.reason === 'account_restricted' ? 'unmatched' : event.reason,
        }),
      )
      .on('extended', (event) =>
        this.patch(event.match_id, {
          expires_at: event.expires_at,
          extended_count: event.extended_count,
        }),
      )
      .on('secretChatRequested', (event) =>
        this.patch(event.match_id, {
          secret_chat: 'requested',
          secret_requested_by: event.requested_by,
        }),
      )
      .on('secretChatActive', (event) => this.patch(event.match_id, { secret_chat: 'active' }))
      .on('typing', (event) => {
        if (event.user_id === this.session.userId) return;
        this.showTyping(event.match_id, event.is_typing);
      })
      .on('read', (event) => {
        if (event.user_id === this.session.userId) return;
        this.raise(this.partnerRead, event.match_id, event.seq);
      })
      .on('delivered', (event) => {
        if (event.user_id === this.session.userId) return;
        this.raise(this.partnerDelivered, event.match_id, event.seq);
      })
      .on('deleted', (event) => this.tombstone(event.match_id, event.seq))
      .on('unreadTotal', (event) => {
        this.unreadTotal = event.total;
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
    if (!navigator.onLine) this.setConnection('offline');
    await this.refreshMatches();
    if (this.stopped) return;
    this.chat.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('offline', this.onOffline);
    window.removeEventListener('online', this.onOnline);
    this.chat.close();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The match list from the server, and the latest history of any match not loaded yet. Called at
   * the start and after a reconnect (events pushed while away are not replayed), never on a timer.
   */
  async refreshMatches(): Promise<void> {
    try {
      const matches = await this.session.rest.myMatches(this.session.userId);
      this.matches = matches;
      for (const match of matches) {
        this.raise(this.partnerRead, match.id, match.partner_last_read_seq ?? 0);
        this.raise(this.partnerDelivered, match.id, match.partner_last_delivered_seq ?? 0);
      }
      await Promise.all(
        matches.filter((m) => !this.loaded.has(m.id)).map((m) => this.loadHistory(m.id)),
      );
    } catch (error) {
      this.stale = true;
      this.fail(error);
    }
    this.changed();
  }

  /** A match found here: followed at once so its first messages are not missed. */
  added(match: DemoMatch): void {
    this.loaded.add(match.id);
    this.chat.follow(match.id);
    this.upsert(match);
  }

  /** The match as the server returned it after an action here (extend, secret chat, ...). */
  upsert(match: MatchView): void {
    const index = this.matches.findIndex((m) => m.id === match.id);
    this.matches =
      index < 0 ? [match, ...this.matches] : this.matches.map((m, i) => (i === index ? match : m));
    this.changed();
  }

  /** Changes one match as an event or an action said. */
  patch(matchId: number, change: Partial<DemoMatch>): void {
    const match = this.match(matchId);
    if (match) this.upsert({ ...match, ...change });
  }

  match(matchId: number): DemoMatch | undefined {
    return this.matches.find((m) => m.id === matchId);
  }

  /**
   * Shows what went wrong: a request that found no server says so until the connection is back;
   * anything else stays until dismissed.
   */
  fail(error: unknown): void {
    if (isNetworkError(error)) this.unreachable = true;
    else this.notice = describeError(error);
    this.changed();
  }

  /** What the banner says about the connection, if anything. */
  get connectionNotice(): string | undefined {
    if (this.connection === 'offline') return OFFLINE_NOTICE;
    return this.unreachable ? UNREACHABLE_NOTICE : undefined;
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

  /**
   * Whether this user may still take the message back: their own, not taken back already, and
   * younger than the server's default unsend window (the server has the last word: a refusal
   * shows as a notice).
   */
  canUnsend(message: MessageView, now = Date.now()): boolean {
    return (
      message.sender_id === this.session.userId &&
      !message.deleted &&
      now - Date.parse(message.created_at) < UNSEND_WINDOW_MS
    );
  }

  /** Takes back one of the user's own messages; it shows as deleted on both sides. */
  async unsend(matchId: number, seq: number): Promise<void> {
    try {
      await this.chat.deleteMessage(matchId, seq);
      this.tombstone(matchId, seq);
    } catch (error) {
      this.fail(error);
    }
  }

  /** The match list's line for a match: its newest message here, else the server's preview. */
  preview(match: DemoMatch): { body: string | null; deleted: boolean; mine: boolean } | undefined {
    const last = this.messages.get(match.id)?.at(-1) ?? match.last_message ?? undefined;
    return last && { ...last, mine: last.sender_id === this.session.userId };
  }

  /** The page of history before what is shown (the SDK only ever brings newer messages). */
  async loadEarlier(matchId: number): Promise<void> {
    const before = this.earlier.get(matchId);
    if (before === undefined) return;
    try {
      const page = await this.session.rest.history(matchId, { before, limit: HISTORY_PAGE });
      for (const message of page.messages) this.put(message);
      this.keepCursor(matchId, page);
    } catch (error) {
      this.fail(error);
    }
    this.changed();
  }

  dismissNotice(): void {
    this.notice = undefined;
    this.changed();
  }

  /**
   * The latest page of a match's history; the SDK follows the match from the seq it ended at, so
   * its replay brings only what came later. A message that arrives both ways is merged once.
   */
  private async loadHistory(matchId: number): Promise<void> {
    const page = await this.session.rest.history(matchId, { limit: HISTORY_PAGE });
    this.loaded.add(matchId);
    for (const message of page.messages) this.put(message);
    this.keepCursor(matchId, page);
    this.chat.follow(matchId, page.messages.at(-1)?.seq ?? 0);
  }

  private keepCursor(matchId: number, page: HistoryPage): void {
    if (page.has_more && page.next_cursor !== null) this.earlier.set(matchId, page.next_cursor);
    else this.earlier.delete(matchId);
  }

  /** Adds a message to its match's list unless its seq is there already; false if it was. */
  private put(message: MessageView): boolean {
    const seqs = this.seqs.get(message.match_id) ?? new Set<number>();
    this.seqs.set(message.match_id, seqs);
    if (seqs.has(message.seq)) return false;
    seqs.add(message.seq);
    const list = this.messages.get(message.match_id) ?? [];
    list.push(message);
    if (list.length > 1 && list.at(-2)!.seq > message.seq) list.sort((a, b) => a.seq - b.seq);
    this.messages.set(message.match_id, list);
    return true;
  }

  /** A message the sender took back: its text goes, its place stays. */
  private tombstone(matchId: number, seq: number): void {
    const list = this.messages.get(matchId);
    const index = list?.findIndex((m) => m.seq === seq) ?? -1;
    if (!list || index < 0) return;
    list[index] = { ...list[index]!, body: null, deleted: true };
    this.changed();
  }

  /** Moves a per-match watermark up (never down). */
  private raise(map: Map<number, number>, matchId: number, seq: number): void {
    map.set(matchId, Math.max(map.get(matchId) ?? 0, seq));
    this.changed();
  }

  private onMessage(message: MessageView): void {
    if (!this.put(message)) return;
    if (message.sender_id === this.session.userId) {
      this.dismissPending(message.match_id, message.client_id);
    } else {
      this.showTyping(message.match_id, false);
    }
    const match = this.match(message.match_id);
    if (match) match.message_count = Math.max(match.message_count, message.seq);
    if (
      message.match_id === this.openMatchId &&
      message.sender_id !== this.session.userId &&
      document.visibilityState === 'visible'
    ) {
      this.markRead(message.match_id);
    }
    this.changed();
  }

  private onReady(): void {
    this.setConnection('connected');
    if (this.stale) {
      this.stale = false;
      void this.refreshMatches();
    }
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
  /** Back online: the socket may have lived through it, or reconnects by itself soon. */
  private readonly onOnline = () =>
    this.setConnection(this.chat.connected ? 'connected' : 'reconnecting');

  private setConnection(state: ConnectionState): void {
    this.connection = state;
    if (state === 'connected') {
      this.unreachable = false; // the server answers again
      if (this.openMatchId !== undefined) this.markRead(this.openMatchId);
    }
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
