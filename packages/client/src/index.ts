export * from './contract';
export { ApiError, RestClient, type MatchFilters } from './rest';
export type { TokenSource } from './token';
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
