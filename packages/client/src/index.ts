export * from '@mm/contract';
export { ApiError, RestClient } from './rest.js';
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
