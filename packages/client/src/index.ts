export * from '@mm/contract';
export { ApiError, RestClient, type MatchFilters } from './rest.js';
export type { TokenSource } from './token.js';
export { connectSocket, sendMessage, type ChatSocket, type SocketOptions } from './socket.js';
export {
  backoffDelay,
  ChatClient,
  ChatError,
  RECONNECT,
  SEND_RETRY,
  type Backoff,
  type ChatClientEvents,
  type ChatClientOptions,
} from './chat-client.js';
