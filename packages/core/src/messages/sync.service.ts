import type { ParsedSyncRequest, SyncPage } from '@mm/contract';
import { listMessagesAfter, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { contactsVisible } from '../unlock/unlock-levels';
import type { ContentFilter } from '../text/content-filter';
import { toMessageView } from '../unlock/message-view';

/**
 * Replay after a reconnect (docs/design.md §4.4): given the last seq the client holds
 * per match, the messages it missed, in (match, seq) order, a page at a time. Matches the caller is
 * not part of are left out as if they held nothing, so a sync never tells whether a match exists.
 */
export class SyncService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly contentFilter?: ContentFilter,
  ) {}

  async since(userId: number, { since, limit }: ParsedSyncRequest): Promise<SyncPage> {
    const cursors = Object.entries(since).map(([matchId, afterSeq]) => ({
      matchId: Number(matchId),
      afterSeq,
    }));
    const rows = await listMessagesAfter(this.db, userId, cursors, limit + 1);
    return {
      messages: rows
        .slice(0, limit)
        .map(({ match, ...message }) =>
          toMessageView(message, contactsVisible(match), this.contentFilter),
        ),
      has_more: rows.length > limit,
    };
  }
}
