import type { Metrics } from '@mm/platform';
import type { GatewayServer } from './socket-server';

/**
 * The gateway's metrics: sockets connected (read at each scrape) and messages delivered, counted as
 * `message:new` frames written to this server's sockets (broadcasts included).
 */
export function instrumentGateway(io: GatewayServer, metrics: Metrics): void {
  metrics.observeSockets(() => io.engine.clientsCount);
  io.on('connection', (socket) => {
    socket.onAnyOutgoing((event: string) => {
      if (event === 'message:new') metrics.messagesDelivered.inc();
    });
  });
}
