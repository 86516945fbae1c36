export { registerGateway, type GatewayDeps, type GatewaySocket } from './gateway';
export { loadGatewayConfig, type GatewayConfig } from './config';
export { instrumentGateway } from './metrics';
export { useRedisAdapter } from './redis-adapter';
export { createSocketServer, MAX_FRAME_BYTES, type GatewayServer } from './socket-server';
export { GatewayDrain, type DrainOptions } from './drain';
export { InFlight } from './in-flight';
