import type { ParsedSyncRequest, SyncPage } from '@mm/contract';
import { listMessagesAfter, type Database, type SyncedMessage, type SyncRead } from '@mm/db';
import type { Kysely } from 'kysely';
import { BatchLoader, CONNECTING_BATCH } from '../batch-loader';
import { contactsVisible } from '../unlock/unlock-levels';
import type { ContentFilter } from '../text/content-filter';
import { toMessageView } from '../unlock/message-view';

/**
 * Replay after a reconnect (docs/design.md §4.4): given the last seq the client holds
 * per match, the messages it missed, in (match, seq) order, a page at a time. Matches the caller is
 * not part of are left out as if they held nothing, so a sync never tells whether a match exists.
 */
export class SyncService {
  /**
   * Syncs asked for while another is read go together in one query (every client of a dead pod
   * syncs right after it reconnects): up to CONNECTING_BATCH's 500 cursors a query, a sync of more
   * alone. Each read starts after its sync was asked for, so it sees every message stored before.
   */
  private readonly reads = new BatchLoader<SyncRead, SyncedMessage[]>(
    async (reads) => {
      const pages = await listMessagesAfter(this.db, reads);
      return new Map(reads.map((read, i) => [read, pages[i]!]));
    },
    { ...CONNECTING_BATCH, weight: (read) => read.cursors.length, missing: () => [] },
  );

  constructor(
    private readonly db: Kysely<Database>,
    private readonly contentFilter?: ContentFilter,
  ) {}

  async since(userId: number, { since, limit }: ParsedSyncRequest): Promise<SyncPage> {
    const cursors = Object.entries(since).map(([matchId, afterSeq]) => ({
      matchId: Number(matchId),
      afterSeq,
    }));
    const rows =
      cursors.length === 0 ? [] : await this.reads.load({ userId, cursors, limit: limit + 1 });
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
