import { UNREAD_COUNT_CAP, type NotificationSettings, type PushPayload } from '@mm/contract';
import type { Match, Message, OutboxRow, PartnerRow } from '@mm/db';
import { toMessageView } from '../unlock/message-view';
import { isPremium } from '../users/premium';
import { partnerView } from '../unlock/partner-view';
import { contactsVisible, viewerLevel } from '../unlock/unlock-levels';

/** Longest message text a preview carries; the app shows the rest. */
const PREVIEW_CHARS = 140;

export interface PayloadSources {
  row: Pick<OutboxRow, 'kind' | 'match_id' | 'level'>;
  match: Match;
  recipient: PartnerRow;
  /** Undefined once the partner deleted their account. */
  partner: PartnerRow | undefined;
  settings: NotificationSettings;
  /** Kind `message`: the partner's messages the recipient has not read. */
  unread: number;
  /** Kind `message`: the partner's newest message still there (a secret one may have expired). */
  latest: Message | undefined;
}

/**
 * What the device shows, cut as the app would cut it: the partner named only as far as the
 * recipient's unlock level allows (level 0: "Mystery User"), a message's text only with previews
 * on, masked as the chat masks it below full unlock, and never a secret message's (a notification
 * outlives the message's TTL on the lock screen).
 */
export function buildPushPayload(sources: PayloadSources): PushPayload {
  const { row, match, recipient, partner, settings } = sources;
  const level = viewerLevel(match, isPremium(recipient));
  const name = partnerView(match, level, { user: partner, hasUploadedPhoto: false }).display_name;
  const base = { kind: row.kind, match_id: row.match_id };
  switch (row.kind) {
    case 'match':
      return { ...base, title: 'New match', body: `You matched with ${name}. Say hello!` };
    case 'unlock':
      return {
        ...base,
        title: `Level ${row.level} unlocked`,
        body: `You can now see more of ${name}.`,
        level: row.level ?? 0,
      };
    case 'expiring':
      return {
        ...base,
        title: 'Your match is about to expire',
        body: `Your match with ${name} ends at ${match.expires_at.toISOString()} unless one of you extends it.`,
      };
    case 'message': {
      const { unread, latest } = sources;
      // The count stops at the cap: from there the badge and the text say 99+.
      const shown = unread >= UNREAD_COUNT_CAP ? `${UNREAD_COUNT_CAP - 1}+` : String(unread);
      const count = `${shown} new message${unread === 1 ? '' : 's'}`;
      // No text from a secret message, nor from one its sender took back (its body is erased).
      const preview =
        settings.previews && latest && !latest.is_secret
          ? toMessageView(latest, contactsVisible(match)).body
          : null;
      return {
        ...base,
        title: name,
        body: preview === null ? count : truncate(preview),
        unread,
      };
    }
  }
}

/** Cut by code point, so an emoji is never split into a lone surrogate. */
function truncate(text: string): string {
  const chars = [...text];
  return chars.length <= PREVIEW_CHARS ? text : `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…`;
}

/** One notification per match and kind on the device: a later one replaces it (RFC 8030 Topic). */
export const pushTopic = (row: Pick<OutboxRow, 'kind' | 'match_id'>): string =>
  `m${row.match_id}-${row.kind}`;
