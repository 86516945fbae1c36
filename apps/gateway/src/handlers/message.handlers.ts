import type { SendMessageRequest } from '@mm/client/contract';
import type { Services } from '@mm/core';
import type { GatewaySocket } from '../socket-server';
import { withAck, type HandlerContext } from './ack';

/** `message:send`: validate, store under the next seq, ack the stored message, deliver to the match. */
export function registerMessageHandlers(
  socket: GatewaySocket,
  services: Services,
  context: HandlerContext,
): void {
  socket.on(
    'message:send',
    withAck(context, async (payload) => {
      // The sending socket gets the ack; its user's other devices get `message:new`.
      const { message } = await services.messages.send(
        socket.data.userId,
        payload as SendMessageRequest,
        socket.id,
      );
      return { message };
    }),
  );
}
