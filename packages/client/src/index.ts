export * from './contract';
export { ApiError, RestClient } from './rest';
export { connectSocket, sendMessage, type ChatSocket, type SocketOptions } from './socket';
