import type { Metrics } from '@mm/platform';
import type { GatewayServer } from './socket-server';

/**
 * The gateway's metrics: sockets connected (read at each scrape), messages delivered, counted as
 * `message:new` frames written to this server's sockets (broadcasts included), and the time from a
 * `message:send` received to its ack sent (`mm_message_ack_seconds`).
 */
export function instrumentGateway(io: GatewayServer, metrics: Metrics): void {
  metrics.observeSockets(() => io.engine.clientsCount);
  // Built once and shared by every socket (neither needs the socket): nothing per idle socket.
  const countDelivered = (event: string) => {
    if (event === 'message:new') metrics.messagesDelivered.inc();
  };
  // A socket middleware runs as the event arrives, before its handler, and may replace the
  // packet's arguments: the ack callback is wrapped so that answering it stops the timer.
  const timeAcks = (packet: unknown[], next: (error?: Error) => void) => {
    const reply: unknown = packet.at(-1);
    if (packet[0] === 'message:send' && typeof reply === 'function') {
      const stop = metrics.messageAckDuration.startTimer();
      packet[packet.length - 1] = (...answer: unknown[]) => {
        stop();
        return (reply as (...args: unknown[]) => unknown)(...answer);
      };
    }
    next();
  };
  io.on('connection', (socket) => {
    socket.onAnyOutgoing(countDelivered);
    socket.use(timeAcks as Parameters<typeof socket.use>[0]);
  });
}
