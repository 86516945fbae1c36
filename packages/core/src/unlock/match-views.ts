import type { MatchView, PartnerView } from '@mm/contract';
import {
  enqueueNotifications,
  findPartnerRows,
  markUnlockedLevel,
  partnerOf,
  type Database,
  type Match,
  type PartnerRow,
} from '@mm/db';
import type { Kysely } from 'kysely';
import type { Realtime } from '../realtime/realtime';
import type { ContentFilter } from '../text/content-filter';
import { isPremium } from '../users/premium';
import { partnerView } from './partner-view';
import {
  isWithdrawn,
  matchLevel,
  viewerLevel,
  type MatchProgress,
  type UnlockLevel,
} from './unlock-levels';

/**
 * Matches as each participant sees them: the partner cut to the viewer's unlock level. Every
 * match that leaves the domain goes through here, so no path can skip the cut.
 */
export class MatchViews {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    /** Masks filtered words in the partner's name and bio (CONTENT_FILTER=mask). */
    private readonly contentFilter?: ContentFilter,
  ) {}

  /** The match as one participant sees it. */
  async forViewer(match: Match, viewerId: number): Promise<MatchView> {
    const [view] = await this.list([match], viewerId);
    return view!;
  }

  /** The user's matches as they see them; the viewer and every partner read in one query. */
  async list(matches: Match[], viewerId: number): Promise<MatchView[]> {
    const rows = await this.rows([viewerId, ...matches.map((m) => partnerOf(m, viewerId))]);
    return matches.map((match) => this.view(match, viewerId, rows));
  }

  /**
   * The match as each side sees it: `[user_a's view, user_b's view]`, from both users' rows as
   * `findPartnerRows` reads them (the claim reads them in its own statement).
   */
  forBoth(match: Match, users: PartnerRow[]): [MatchView, MatchView] {
    const rows = new Map(users.map((row) => [row.id, row]));
    return [this.view(match, match.user_a, rows), this.view(match, match.user_b, rows)];
  }

  /**
   * After a message, with the match as it stood right after it: when its messages opened a level
   * no send announced yet, tells each side whose view opened up, with the partner as they may now
   * see them. Exactly one send announces each level (a conditional UPDATE decides, on any pod). A
   * premium viewer saw everything already and is told nothing. Below an unannounced level nothing
   * is read or written.
   */
  async announceIfUnlocked(
    match: Pick<Match, 'id' | 'unlocked_level'> & MatchProgress,
  ): Promise<void> {
    if (!opensLevel(match)) return;
    const level = matchLevel(match);
    // The level and its pushes commit together: one send (on any pod) marks it, and enqueues once.
    const marked = await this.db.transaction().execute(async (trx) => {
      const row = await markUnlockedLevel(trx, match.id, level);
      if (row) {
        await enqueueNotifications(
          trx,
          [row.user_a, row.user_b].map((userId) => ({
            user_id: userId,
            match_id: row.id,
            kind: 'unlock' as const,
            event_key: `unlock:${row.id}:${level}:${userId}`,
            level,
          })),
        );
      }
      return row;
    });
    if (!marked) return;
    const rows = await this.rows([marked.user_a, marked.user_b]);
    for (const viewerId of [marked.user_a, marked.user_b]) {
      const viewer = rows.get(viewerId);
      if (viewer && isPremium(viewer)) continue;
      this.realtime.toUsers([viewerId], 'match:unlocked', {
        match_id: marked.id,
        level,
        partner: this.partner(marked, viewerId, rows, level),
      });
    }
  }

  private view(match: Match, viewerId: number, rows: Map<number, PartnerRow>): MatchView {
    return toMatchView(match, viewerId, this.partner(match, viewerId, rows));
  }

  private partner(
    match: Match,
    viewerId: number,
    rows: Map<number, PartnerRow>,
    level: UnlockLevel = this.level(match, rows.get(viewerId)),
  ) {
    const partner = rows.get(partnerOf(match, viewerId));
    const filter = this.contentFilter;
    return partnerView(match, level, {
      user:
        partner && filter
          ? {
              ...partner,
              display_name: filter.forReader(partner.display_name),
              bio: filter.forReader(partner.bio),
            }
          : partner,
      hasUploadedPhoto: partner?.has_uploaded_photo ?? false,
    });
  }

  private level(match: Match, viewer: PartnerRow | undefined) {
    return viewerLevel(match, viewer !== undefined && isPremium(viewer));
  }

  private async rows(userIds: number[]): Promise<Map<number, PartnerRow>> {
    const rows = await findPartnerRows(this.db, [...new Set(userIds)]);
    return new Map(rows.map((row) => [row.id, row]));
  }
}

/** The match as the wire shows it to `viewerId`; `partner` is already cut to their level. */
function toMatchView(match: Match, viewerId: number, partner: PartnerView): MatchView {
  return {
    id: match.id,
    partner_id: partnerOf(match, viewerId),
    status: match.status,
    created_at: match.created_at.toISOString(),
    expires_at: match.expires_at.toISOString(),
    message_count: match.message_count,
    extended_count: match.extended_count,
    secret_chat: match.secret_chat,
    secret_requested_by: match.secret_requested_by,
    ...receipts(match, viewerId),
    partner,
  };
}

/**
 * The viewer's own watermarks, and the partner's for the viewer's marks (✓ delivered, ✓✓ read):
 * those are left out once the partner is withdrawn (block or unmatch), as their events are.
 */
function receipts(match: Match, viewerId: number) {
  const mine = match.user_a === viewerId ? 'a' : 'b';
  const theirs = mine === 'a' ? 'b' : 'a';
  return {
    last_read_seq: match[`${mine}_last_read_seq`],
    last_delivered_seq: match[`${mine}_last_delivered_seq`],
    ...(!isWithdrawn(match) && {
      partner_last_read_seq: match[`${theirs}_last_read_seq`],
      partner_last_delivered_seq: match[`${theirs}_last_delivered_seq`],
    }),
  };
}

/**
 * Whether the match, as it stood right after a message, is at a level no send announced yet: what
 * `announceIfUnlocked` would act on. Asked first by the send path, so the usual message (no new
 * level) costs no async call.
 */
export function opensLevel(match: Pick<Match, 'unlocked_level'> & MatchProgress): boolean {
  return matchLevel(match) > match.unlocked_level;
}
