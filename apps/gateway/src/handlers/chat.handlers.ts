import {
  matchRoom,
  typingRequest,
  userRoom,
  type ReadRequest,
  type SyncRequest,
} from '@mm/client/contract';
import type { Services } from '@mm/core';
import type { GatewaySocket } from '../socket-server';
import { withAck, type HandlerContext } from './ack';

/** `sync` (replay after a reconnect), `typing` and `read`. */
export function registerChatHandlers(
  socket: GatewaySocket,
  services: Services,
  context: HandlerContext,
): void {
  const userId = socket.data.userId;

  socket.on(
    'sync',
    withAck(context, (payload) => services.sync.since(userId, payload as SyncRequest)),
  );

  socket.on(
    'read',
    withAck(context, async (payload) => ({
      last_read_seq: await services.receipts.markRead(userId, payload as ReadRequest, socket.id),
    })),
  );

  // Volatile and unacknowledged: a malformed one, or one for a match this socket is not in, is
  // dropped. Membership of the match room is the check, so typing costs no database read.
  socket.on('typing', (payload: unknown) => {
    const parsed = typingRequest.safeParse(payload);
    if (!parsed.success) return;
    const room = matchRoom(parsed.data.match_id);
    if (!socket.rooms.has(room)) return;
    socket.volatile.to(room).except(userRoom(userId)).emit('typing', {
      match_id: parsed.data.match_id,
      user_id: userId,
      is_typing: parsed.data.is_typing,
    });
  });
}
