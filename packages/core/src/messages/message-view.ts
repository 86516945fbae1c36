import type { MessageView } from '@mm/contract';
import type { Message } from '@mm/db';
import type { ContentFilter } from '../text/content-filter';
import { maskContacts } from '../unlock/contact-masking';

/**
 * `contactsShown`: whether the match lets contact details show (`contactsVisible`, level 4 and
 * not withdrawn); otherwise they are masked. Stored as written, so they show once it does.
 * `filter`: filtered words are masked too when it is in `mask` mode (docs/design.md §3.14).
 */
export function toMessageView(
  message: Message,
  contactsShown: boolean,
  filter?: ContentFilter,
): MessageView {
  const body = contactsShown ? message.body : maskContacts(message.body);
  return {
    id: message.id,
    match_id: message.match_id,
    seq: message.seq,
    sender_id: message.sender_id,
    client_id: message.client_id,
    body: filter ? filter.forReader(body) : body,
    is_secret: message.is_secret,
    created_at: message.created_at.toISOString(),
  };
}
