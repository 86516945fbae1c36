import {
  deleteMessageRequest,
  deleteMessageResponse,
  deliveredAck,
  deliveredRequest,
  matchRoom,
  readAck,
  readRequest,
  sendMessageRequest,
  sendMessageResponse,
  syncPage,
  syncRequest,
  typingRequest,
  userRoom,
} from '@mm/contract';
import { clientEvent, type AnyEventSpec } from './event-table';

/** Every event a client may send, once: mounted on each socket and documented from this list. */
export const clientEvents: readonly AnyEventSpec[] = [
  clientEvent({
    event: 'message:send',
    summary: 'Send a message: stored under the next seq, acked, delivered to the match',
    description:
      'Stored once per `client_id` (a resend answers the stored message and stores nothing), ' +
      "acked with the stored message. The match's sockets get `message:new`: the partner's, and " +
      "the sender's other devices; the sending socket has the ack instead.",
    payload: sendMessageRequest,
    ack: sendMessageResponse,
    rate: 'messages',
    errors: ['NOT_FOUND', 'MATCH_NOT_ACTIVE', 'CONTENT_REFUSED'],
    // The ack schema keeps the result's `message` only: `created` never reaches the client.
    handler: ({ payload, userId, socket, services }) =>
      services.messages.send(userId, payload, socket.id),
  }),
  clientEvent({
    event: 'sync',
    summary: 'Replay after a reconnect: the messages after each given seq, a page at a time',
    description:
      'In (match, seq) order; call again with the last seqs of the page while `has_more`. ' +
      'Matches the caller is not part of are left out as if they held nothing.',
    payload: syncRequest,
    ack: syncPage,
    rate: 'none',
    handler: ({ payload, userId, services }) => services.sync.since(userId, payload),
  }),
  clientEvent({
    event: 'typing',
    summary: 'Tell the partner the caller is (or stopped) typing: they get `typing`',
    description:
      'Membership of the match room is the check, so typing costs no database read; the ' +
      "caller's own other devices are not told.",
    payload: typingRequest,
    rate: 'volatile',
    handler: ({ payload, userId, socket }) => {
      const room = matchRoom(payload.match_id);
      if (!socket.rooms.has(room)) return;
      socket.volatile.to(room).except(userRoom(userId)).emit('typing', {
        match_id: payload.match_id,
        user_id: userId,
        is_typing: payload.is_typing,
      });
    },
  }),
  clientEvent({
    event: 'read',
    summary: "Store the caller's last read seq of a match (never backwards, never beyond the last)",
    description:
      "When it moves, the partner's sockets and the caller's other devices get `read`; after a " +
      "block or unmatch only the caller's own devices do.",
    payload: readRequest,
    ack: readAck,
    rate: 'none',
    errors: ['NOT_FOUND'],
    handler: async ({ payload, userId, socket, services }) => ({
      last_read_seq: await services.receipts.markRead(userId, payload, socket.id),
    }),
  }),
  clientEvent({
    event: 'delivered',
    summary:
      "Store the caller's last delivered seq of a match: its messages up to `seq` reached a device",
    description:
      "Never backwards, never beyond the last. When it moves, the partner's sockets and the " +
      "caller's other devices get `message:delivered`; after a block or unmatch only the " +
      "caller's own devices do. The SDK sends it by itself for every message it receives.",
    payload: deliveredRequest,
    ack: deliveredAck,
    rate: 'none',
    errors: ['NOT_FOUND'],
    handler: async ({ payload, userId, socket, services }) => ({
      last_delivered_seq: await services.receipts.markDelivered(userId, payload, socket.id),
    }),
  }),
  clientEvent({
    event: 'message:delete',
    summary: "Take back one of the caller's own messages within the unsend window",
    description:
      'The body is erased from the database; the seq stays as a tombstone (`deleted: true`, ' +
      '`body: null`) in history and `sync`, and unlock counts do not go down. Acked with the ' +
      "tombstone; the partner's sockets and the caller's other devices get `message:deleted`. " +
      'Taking back a message taken back already acks the tombstone again and tells no one.',
    payload: deleteMessageRequest,
    ack: deleteMessageResponse,
    rate: 'none',
    errors: ['NOT_FOUND', 'NOT_MESSAGE_SENDER', 'UNSEND_WINDOW_CLOSED'],
    handler: async ({ payload, userId, socket, services }) => ({
      message: await services.messages.unsend(userId, payload, socket.id),
    }),
  }),
];
