import { UNREAD_COUNT_CAP } from '@mm/contract';
import { listConnectingViews, type ConnectingView, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { BatchLoader, CONNECTING_BATCH } from './batch-loader';

export type { ConnectingView };

/**
 * What a socket is told as it connects, after it joined its rooms: the user's unread total and
 * their partners' presence (last seen, for `PresenceService.presenceOf`). Both are read
 * in one call, for the users connecting at once: a dead pod's clients each ask for both, and the
 * call is a function whose plan PostgreSQL keeps, where parsing and planning a statement for each
 * batch cost it more than running it (docs/design.md §5).
 */
export class ConnectingReads {
  private readonly views = new BatchLoader<number, ConnectingView>(
    (userIds) => listConnectingViews(this.db, { userIds, cap: UNREAD_COUNT_CAP }),
    { ...CONNECTING_BATCH, missing: () => ({ unreadTotal: 0, partners: [] }) },
  );

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The user's view now. Asked for twice in one turn (the total and the partners), it is read
   * once; asked for again later, it is read again.
   */
  of(userId: number): Promise<ConnectingView> {
    return this.views.load(userId);
  }
}
