import { io, type Socket } from 'socket.io-client';
import type { SocketSpec } from './generator';

/** One side of a chat pair: who it is, which gateway it talks to, what it sends in the handshake. */
export interface Participant {
  userId: number;
  matchId: number;
  gatewayUrl: string;
  auth: Record<string, unknown>;
}

/** What the load generator needs to open a participant's socket. */
export const socketSpec = (participant: Participant): SocketSpec => ({
  url: participant.gatewayUrl,
  auth: participant.auth,
  matchId: participant.matchId,
});

interface Connected {
  participant: Participant;
  socket: Socket;
}

/**
 * Connects every participant from this process, resolving once all handshakes are accepted: the
 * clients of the socket heap profile. The chat ladder and the idle sockets use the load
 * generator's own process instead (generator.ts).
 */
export async function connectAll(
  participants: Participant[],
  concurrency = 200,
): Promise<Connected[]> {
  const connected: Connected[] = [];
  for (let i = 0; i < participants.length; i += concurrency) {
    const batch = participants.slice(i, i + concurrency);
    connected.push(
      ...(await Promise.all(
        batch.map(
          (participant) =>
            new Promise<Connected>((resolve, reject) => {
              const socket = io(participant.gatewayUrl, {
                auth: participant.auth,
                transports: ['websocket'],
                reconnection: false,
              });
              socket.once('connect', () => resolve({ participant, socket }));
              socket.once('connect_error', reject);
            }),
        ),
      )),
    );
  }
  return connected;
}
