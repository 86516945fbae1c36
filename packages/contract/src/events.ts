import type { Ack, MatchView, MessageView } from './wire.js';
import type { SendMessageRequest } from './schemas.js';
import type {
  MatchEndedEvent,
  MatchExtendedEvent,
  MatchUnlockedEvent,
  SecretChatEvent,
} from './lifecycle.js';
import type { MatchExpiringEvent } from './notifications.js';
import type {
  DeleteMessageRequest,
  DeliveredEvent,
  DeliveredRequest,
  MessageDeletedEvent,
  PresenceView,
  ReadEvent,
  ReadRequest,
  UnreadTotalEvent,
  SyncPage,
  SyncNeededEvent,
  SyncRequest,
  TypingEvent,
  TypingRequest,
} from './chat.js';

/** Events a client sends; each takes an ack callback unless noted. Names are `resource:verb`. */
export interface ClientToServerEvents {
  'message:send': (
    payload: SendMessageRequest,
    ack: (res: Ack<{ message: MessageView }>) => void,
  ) => void;
  /** The messages after each given seq, in order, a page at a time. */
  sync: (payload: SyncRequest, ack: (res: Ack<SyncPage>) => void) => void;
  /** Volatile, no ack: dropped rather than queued when the link is slow. */
  typing: (payload: TypingRequest) => void;
  /** Stores the caller's last read seq (never backwards) and tells the partner. */
  read: (payload: ReadRequest, ack: (res: Ack<{ last_read_seq: number }>) => void) => void;
  /**
   * Stores that the messages up to `seq` reached this device (never backwards) and tells the
   * partner `message:delivered`. The SDK sends it by itself for each message it receives.
   */
  delivered: (
    payload: DeliveredRequest,
    ack: (res: Ack<{ last_delivered_seq: number }>) => void,
  ) => void;
  /** Takes back the caller's own message within the unsend window: answered with its tombstone. */
  'message:delete': (
    payload: DeleteMessageRequest,
    ack: (res: Ack<{ message: MessageView }>) => void,
  ) => void;
}

/** Events the server pushes. */
export interface ServerToClientEvents {
  'message:new': (message: MessageView) => void;
  'match:new': (match: MatchView) => void;
  /** The match is over (expired, unmatched, blocked); both users' sockets have left its room. */
  'match:ended': (event: MatchEndedEvent) => void;
  'match:extended': (event: MatchExtendedEvent) => void;
  /** The match ends within EXPIRY_WARNING_MINUTES unless extended (sent once per expiry). */
  'match:expiring': (event: MatchExpiringEvent) => void;
  /** The chat crossed an unlock level: the partner as this user may now see them. */
  'match:unlocked': (event: MatchUnlockedEvent) => void;
  'secret_chat:requested': (event: SecretChatEvent) => void;
  /** From now on, new messages in the match are secret and purged after their TTL. */
  'secret_chat:active': (event: SecretChatEvent) => void;
  typing: (event: TypingEvent) => void;
  read: (event: ReadEvent) => void;
  /** The partner's devices got the match's messages up to `seq`. */
  'message:delivered': (event: DeliveredEvent) => void;
  /** The sender took a message back: show its tombstone instead (its text is gone). */
  'message:deleted': (event: MessageDeletedEvent) => void;
  /** The user's unread messages over all matches (each match's up to 100): on connect, then as it changes. */
  'unread:total': (event: UnreadTotalEvent) => void;
  /** A match partner came online or went offline. */
  presence: (presence: PresenceView) => void;
  /**
   * Live events may have been lost on the way to this socket (the pod's Redis subscription dropped
   * and is back): call `sync` within a random wait of up to `SYNC_NEEDED_SPREAD_MS`. Sent by the
   * pod to its own sockets only; the SDK's ChatClient does it by itself.
   */
  'sync:needed': (event: SyncNeededEvent) => void;
}

/** What a socket carries after the handshake. */
export interface SocketData {
  userId: number;
  /** The token's role (`user`, `moderator`, `admin`). */
  role: 'user' | 'moderator' | 'admin';
}

/** The handshake's `connect_error` carries `data.code`, one of these. */
export type HandshakeErrorCode =
  'UNAUTHENTICATED' | 'TOKEN_EXPIRED' | 'UNAVAILABLE' | 'ACCOUNT_DELETED';
