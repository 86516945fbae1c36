export * from './contract';
export { ApiError, RestClient } from './rest';
export { connectSocket, sendMessage, type ChatSocket, type SocketOptions } from './socket';
export {
  backoffDelay,
  ChatClient,
  ChatError,
  RECONNECT,
  SEND_RETRY,
  type Backoff,
  type ChatClientEvents,
  type ChatClientOptions,
} from './chat-client';
