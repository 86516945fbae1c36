export { registerGateway, type GatewayDeps, type GatewaySocket } from './gateway';
export { instrumentGateway } from './metrics';
export { askToResync, useRedisAdapter } from './redis-adapter';
export {
  createSocketServer,
  handshakeAddress,
  MAX_FRAME_BYTES,
  originAllowed,
  type GatewayServer,
  type SocketServerOptions,
} from './socket-server';
export { GatewayDrain, type DrainOptions } from './drain';
export { InFlight } from './in-flight';
export { clientEvents } from './events/client-events';
export { eventsMarkdown } from './events/event-docs';
export {
  eventListeners,
  mountEvents,
  type EventListeners,
  type AnyEventSpec,
  type EventSpec,
  type RateClass,
} from './events/event-table';
