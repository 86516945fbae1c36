import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  ClientToServerEvents,
  MessageView,
  SendMessageRequest,
  ServerToClientEvents,
} from '@mm/contract';

export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface SocketOptions {
  /** Where the gateway listens (the embedded default: the same address as the API). */
  url: string;
  token: string;
  /** Milliseconds an ack may take before `send` fails. */
  ackTimeoutMs?: number;
}

/** Connects with the token in the handshake; Socket.IO reconnects on its own after a drop. */
export function connectSocket(options: SocketOptions): ChatSocket {
  return io(options.url, {
    auth: { token: options.token },
    transports: ['websocket'],
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 5_000,
    randomizationFactor: 0.5,
  });
}

/** Sends a message and resolves with the stored message (or rejects with the server's error). */
export async function sendMessage(
  socket: ChatSocket,
  request: SendMessageRequest,
  ackTimeoutMs = 10_000,
): Promise<MessageView> {
  const ack: Ack<{ message: MessageView }> = await socket
    .timeout(ackTimeoutMs)
    .emitWithAck('message:send', request);
  if (!ack.ok)
    throw Object.assign(new Error(`${ack.error.code}: ${ack.error.message}`), { error: ack.error });
  return ack.message;
}
