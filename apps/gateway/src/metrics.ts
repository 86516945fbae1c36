import type { Metrics } from '@mm/platform';
import type { GatewayServer } from './socket-server';

/**
 * The gateway's metrics: sockets connected (read at each scrape), messages delivered, counted as
 * `message:new` frames written to this server's sockets (broadcasts included), and the time from a
 * `message:send` received to its ack sent (`mm_message_ack_seconds`).
 */
export function instrumentGateway(io: GatewayServer, metrics: Metrics): void {
  metrics.observeSockets(() => io.engine.clientsCount);
  io.on('connection', (socket) => {
    socket.onAnyOutgoing((event: string) => {
      if (event === 'message:new') metrics.messagesDelivered.inc();
    });
    // A socket middleware runs as the event arrives, before its handler, and may replace the
    // packet's arguments: the ack callback is wrapped so that answering it stops the timer.
    socket.use((packet, next) => {
      const reply: unknown = packet.at(-1);
      if (packet[0] === 'message:send' && typeof reply === 'function') {
        const stop = metrics.messageAckDuration.startTimer();
        packet[packet.length - 1] = (...answer: unknown[]) => {
          stop();
          return reply(...answer);
        };
      }
      next();
    });
  });
}
