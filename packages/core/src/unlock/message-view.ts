import type { MessagePreview, MessageView } from '@mm/contract';
import type { Message } from '@mm/db';
import { maskContacts } from './contact-masking';

/**
 * `contactsShown`: whether the match lets contact details show (`contactsVisible`, level 4 and
 * not withdrawn); otherwise they are masked. Stored as written, so they show once it does. A
 * message taken back is a tombstone: `deleted`, no body.
 */
export function toMessageView(message: Message, contactsShown: boolean): MessageView {
  return {
    id: message.id,
    match_id: message.match_id,
    seq: message.seq,
    sender_id: message.sender_id,
    client_id: message.client_id,
    is_secret: message.is_secret,
    created_at: message.created_at.toISOString(),
    ...shownBody(message, contactsShown),
  };
}

/** The match list's preview of a message: masked exactly as the chat shows it. */
export function toMessagePreview(message: Message, contactsShown: boolean): MessagePreview {
  return {
    seq: message.seq,
    sender_id: message.sender_id,
    is_secret: message.is_secret,
    created_at: message.created_at.toISOString(),
    ...shownBody(message, contactsShown),
  };
}

function shownBody(message: Message, contactsShown: boolean) {
  const { body } = message;
  if (body === null) return { body: null, deleted: true };
  return { body: contactsShown ? body : maskContacts(body), deleted: false };
}
