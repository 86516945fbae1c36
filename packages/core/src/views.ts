import type { Match, Message, User } from '@mm/db';
import { maskContacts } from './unlock/contact-masking';
import type { MatchView, MessageView, PartnerView, ProfileView } from '@mm/client/contract';

/** Rows to wire shapes: the one place timestamps become ISO strings. */

export function toProfileView(user: User): ProfileView {
  return {
    id: user.id,
    display_name: user.display_name,
    gender: user.gender,
    birth_date: user.birth_date,
    city: user.city,
    interests: user.interests,
    bio: user.bio,
    photo_url: user.photo_url,
    is_premium: user.is_premium,
    verification_status: user.verification_status,
    created_at: user.created_at.toISOString(),
  };
}

/** `partner` is already cut to the viewer's unlock level (unlock/match-views.ts builds both). */
export function toMatchView(match: Match, viewerId: number, partner: PartnerView): MatchView {
  return {
    id: match.id,
    partner_id: match.user_a === viewerId ? match.user_b : match.user_a,
    status: match.status,
    created_at: match.created_at.toISOString(),
    expires_at: match.expires_at.toISOString(),
    message_count: match.message_count,
    extended_count: match.extended_count,
    secret_chat: match.secret_chat,
    secret_requested_by: match.secret_requested_by,
    last_read_seq: match.user_a === viewerId ? match.a_last_read_seq : match.b_last_read_seq,
    partner,
  };
}

/**
 * `contactsShown`: whether the match lets contact details show (`contactsVisible`, level 4 and
 * not withdrawn); otherwise they are masked. Stored as written, so they show once it does.
 */
export function toMessageView(message: Message, contactsShown: boolean): MessageView {
  return {
    id: message.id,
    match_id: message.match_id,
    seq: message.seq,
    sender_id: message.sender_id,
    client_id: message.client_id,
    body: contactsShown ? message.body : maskContacts(message.body),
    is_secret: message.is_secret,
    created_at: message.created_at.toISOString(),
  };
}
