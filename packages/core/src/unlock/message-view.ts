import type { MessagePreview, MessageView } from '@mm/contract';
import type { Message } from '@mm/db';
import type { ContentFilter } from '../text/content-filter';
import { maskContacts } from './contact-masking';

/**
 * `contactsShown`: whether the match lets contact details show (`contactsVisible`, level 4 and
 * not withdrawn); otherwise they are masked. Stored as written, so they show once it does. A
 * message taken back is a tombstone: `deleted`, no body. `filter`: filtered words are masked too
 * when it is in `mask` mode (docs/design.md §3.14).
 */
export function toMessageView(
  message: Message,
  contactsShown: boolean,
  filter?: ContentFilter,
): MessageView {
  const body = shownBody(message, contactsShown, filter);
  // Built field by field, no spread: every message sent and delivered goes through here.
  return {
    id: message.id,
    match_id: message.match_id,
    seq: message.seq,
    sender_id: message.sender_id,
    client_id: message.client_id,
    is_secret: message.is_secret,
    created_at: message.created_at.toISOString(),
    body,
    deleted: body === null,
  };
}

/** The match list's preview of a message: masked exactly as the chat shows it. */
export function toMessagePreview(
  message: Message,
  contactsShown: boolean,
  filter?: ContentFilter,
): MessagePreview {
  const body = shownBody(message, contactsShown, filter);
  return {
    seq: message.seq,
    sender_id: message.sender_id,
    is_secret: message.is_secret,
    created_at: message.created_at.toISOString(),
    body,
    deleted: body === null,
  };
}

/** The text a reader sees: null for a tombstone, masked as the match and the filter say. */
function shownBody(
  message: Message,
  contactsShown: boolean,
  filter: ContentFilter | undefined,
): string | null {
  const { body } = message;
  if (body === null) return null;
  const masked = contactsShown ? body : maskContacts(body);
  return filter ? filter.forReader(masked) : masked;
}
