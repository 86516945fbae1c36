import type { Ack, MatchView, MessageView } from './wire';
import type { SendMessageRequest } from './schemas';

/** Events a client sends; each takes an ack callback unless noted. Names are `resource:verb`. */
export interface ClientToServerEvents {
  'message:send': (
    payload: SendMessageRequest,
    ack: (res: Ack<{ message: MessageView }>) => void,
  ) => void;
}

/** Events the server pushes. */
export interface ServerToClientEvents {
  'message:new': (message: MessageView) => void;
  'match:new': (match: MatchView) => void;
}

/** What a socket carries after the handshake. */
export interface SocketData {
  userId: number;
}

/** The handshake's `connect_error` carries `data.code`, one of these. */
export type HandshakeErrorCode = 'UNAUTHENTICATED';
