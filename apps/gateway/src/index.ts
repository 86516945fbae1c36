export { registerGateway, type GatewayDeps, type GatewaySocket } from './gateway';
export { loadGatewayConfig, type GatewayConfig } from './config';
export { instrumentGateway } from './metrics';
export { useRedisAdapter } from './redis-adapter';
export {
  createSocketServer,
  handshakeAddress,
  MAX_FRAME_BYTES,
  type GatewayServer,
  type SocketServerOptions,
} from './socket-server';
export { GatewayDrain, type DrainOptions } from './drain';
export { InFlight } from './in-flight';
