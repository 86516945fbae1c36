import {
  UNREAD_COUNT_CAP,
  type MatchView,
  type ParsedFindMatchRequest,
  type UserStats,
} from '@mm/contract';
import {
  claimMatch,
  countMatchesToday,
  isUniqueViolation,
  endMatch,
  extendMatch,
  countUnreadMessages,
  findMatchById,
  lastMessageOfMatches,
  findUserById,
  findUserWithStanding,
  listCandidates,
  listMatchesOfUser,
  userMatchStats,
  isSideOf,
  type Candidate,
  type ClaimedMatch,
  type Database,
  type Match,
  type User,
} from '@mm/db';
import type { Kysely } from 'kysely';
import type { DomainRules } from '../rules';
import { AppError } from '../errors';
import type { Realtime } from '../realtime/realtime';
import { toProfileFilters } from '../profiles/profile-filters';
import { isPremium } from '../users/premium';
import { assertInGoodStanding } from '../users/user.service';
import type { MatchViews } from '../unlock/match-views';
import { compatibilityWith } from './compatibility';
import { announceMatchEnded } from '../realtime/match-events';
import { toMessagePreview } from '../unlock/message-view';
import { contactsVisible } from '../unlock/unlock-levels';
import type { ScoreCache } from './score-cache';

/** How many eligible candidates are ranked per find-match (the most recently active). */
const CANDIDATE_POOL = 50;
/** A candidate may be taken by a concurrent request for the same pair: try the next one. */
const MAX_PAIRING_ATTEMPTS = 5;

/** A search records the caller's activity only when the last record is older than this. */
const ACTIVITY_RESOLUTION_MS = 60_000;

/** The next UTC midnight: when the daily count starts again. */
export function nextUtcMidnight(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

export class MatchService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    private readonly rules: DomainRules,
    private readonly scores: ScoreCache,
    private readonly views: MatchViews,
  ) {}

  /**
   * Pairs the caller with the most compatible candidate inside the filters and tells both sides'
   * sockets, on every pod (and the partner by push, enqueued with the match). The day's slot
   * (capped for free users), the match and the push are taken in one statement: the counter row
   * makes concurrent calls queue, and the pair's unique index makes a pair taken meanwhile roll
   * the slot back and try the next candidate.
   */
  async findMatch(
    userId: number,
    filters: ParsedFindMatchRequest = { user_id: userId },
  ): Promise<MatchView> {
    const me = await this.requireMatchable(userId);
    const premium = isPremium(me);
    if (!premium && (await countMatchesToday(this.db, userId)) >= this.rules.dailyMatchLimit) {
      throw this.limitReached();
    }
    // Searching is activity, recorded by the candidates' statement. At most once a minute: a
    // candidate's place in the order does not need a finer clock, and a search that skips the
    // write skips its commit's flush.
    const now = new Date();
    const activeAt =
      now.getTime() - me.last_active_at.getTime() >= ACTIVITY_RESOLUTION_MS ? now : undefined;
    const candidates = await listCandidates(
      this.db,
      userId,
      {
        ...toProfileFilters(filters),
        activeSince: new Date(now.getTime() - this.rules.activeWithinMs),
        limit: CANDIDATE_POOL,
      },
      { activeAt },
    );
    const ranked = await this.rank(me, candidates);

    for (const candidate of ranked.slice(0, MAX_PAIRING_ATTEMPTS)) {
      const claimed = await this.pair(userId, candidate.id, premium);
      if (!claimed) continue;
      const { match, users } = claimed;
      this.realtime.joinMatch([match.user_a, match.user_b], match.id);
      const [viewOfA, viewOfB] = this.views.forBoth(match, users);
      this.realtime.toUsers([match.user_a], 'match:new', viewOfA);
      this.realtime.toUsers([match.user_b], 'match:new', viewOfB);
      return match.user_a === userId ? viewOfA : viewOfB;
    }
    throw new AppError('NO_CANDIDATES', 'Nobody is available right now; try again later.');
  }

  /** Candidates best first: score (cached per pair), then the most recently active. */
  private async rank(me: User, candidates: Candidate[]): Promise<Candidate[]> {
    const cached = await this.scores.get(
      me.id,
      candidates.map((c) => c.id),
    );
    const fresh = new Map<number, number>();
    const scoreAgainstMe = compatibilityWith(me);
    const scored = candidates.map((candidate, i) => {
      let score = cached[i];
      if (score === undefined) {
        score = scoreAgainstMe(candidate);
        fresh.set(candidate.id, score);
      }
      return { candidate, score, order: i };
    });
    await this.scores.set(me.id, fresh);
    scored.sort((x, y) => y.score - x.score || x.order - y.order);
    return scored.map((s) => s.candidate);
  }

  /**
   * The match and both users' rows, or undefined when the pair got an active match meanwhile or
   * either account went: the claim is one statement (`claimMatch`), the day's slot (free users)
   * and the partner's push included.
   */
  private async pair(
    userId: number,
    otherId: number,
    premium: boolean,
  ): Promise<ClaimedMatch | undefined> {
    // Premium takes a slot too, without a cap, so its matches count in `matches_today`.
    const dailyLimit = premium ? null : this.rules.dailyMatchLimit;
    try {
      // The partner learns of it by push if not online (enqueued by the same statement); the
      // caller has the answer.
      const match = await claimMatch(this.db, {
        userId,
        otherId,
        dailyLimit,
        ttlMs: this.rules.matchTtlMs,
      });
      if (match) return match;
    } catch (error) {
      if (isUniqueViolation(error)) return undefined; // the pair was taken meanwhile
      throw error;
    }
    // Nothing stored: the limit was reached meanwhile (a concurrent search), or an account went.
    if (dailyLimit !== null && (await countMatchesToday(this.db, userId)) >= dailyLimit) {
      throw this.limitReached();
    }
    return undefined;
  }

  private limitReached(): AppError {
    return new AppError(
      'DAILY_LIMIT_REACHED',
      `Free accounts can start ${this.rules.dailyMatchLimit} matches a day.`,
      { limit: this.rules.dailyMatchLimit, resets_at: nextUtcMidnight().toISOString() },
    );
  }

  /**
   * The caller, if they may search: refused first as any route refuses an account that may not
   * act (ACCOUNT_DELETED, _SUSPENDED, _BANNED), read in the same query as their profile (the
   * route leaves the check to this, `standingCheckedByHandler`).
   */
  private async requireMatchable(userId: number): Promise<User> {
    const { user: me, standing } = await findUserWithStanding(this.db, userId);
    assertInGoodStanding(standing);
    if (!me) {
      throw new AppError('PROFILE_REQUIRED', 'Create your profile before finding a match.');
    }
    if (me.verification_status !== 'approved') {
      throw new AppError('PROFILE_NOT_APPROVED', 'Your profile is not approved yet.', {
        verification_status: me.verification_status,
      });
    }
    return me;
  }

  /**
   * Adds the configured time to a live match: a free user only while it was never extended,
   * premium without limit. One conditional UPDATE, so concurrent extensions cannot both pass.
   */
  async extend(userId: number, matchId: number): Promise<MatchView> {
    const me = await findUserById(this.db, userId);
    const match = await extendMatch(this.db, {
      matchId,
      userId,
      extendMs: this.rules.extendMs,
      unlimited: me !== undefined && isPremium(me),
    });
    if (!match) {
      const current = await this.requireLive(matchId, userId);
      throw new AppError(
        'EXTENSION_LIMIT_REACHED',
        'This match was extended already; premium accounts can extend again.',
        { extended_count: current.extended_count },
      );
    }
    this.realtime.toUsers([match.user_a, match.user_b], 'match:extended', {
      match_id: match.id,
      expires_at: match.expires_at.toISOString(),
      extended_count: match.extended_count,
    });
    return this.views.forViewer(match, userId);
  }

  /** Ends the match for both at once; both users' sockets leave its room on every pod. */
  async unmatch(userId: number, matchId: number): Promise<MatchView> {
    const match = await endMatch(this.db, { matchId, userId, status: 'unmatched' });
    if (!match) {
      await this.requireLive(matchId, userId);
      // Live a moment ago but ended meanwhile by the other side: ended either way.
      throw new AppError('MATCH_NOT_ACTIVE', 'This match has ended.');
    }
    announceMatchEnded(this.realtime, match, 'unmatched');
    return this.views.forViewer(match, userId);
  }

  /**
   * Every match of the user, with the unread count of each and its last message as the chat
   * shows it (masked by the match's level; a tombstone when taken back; an expired secret message
   * never: the one before it, if any).
   */
  async listMatches(userId: number): Promise<MatchView[]> {
    const matches = await listMatchesOfUser(this.db, userId);
    const ids = matches.map((match) => match.id);
    const [unread, last, views] = await Promise.all([
      countUnreadMessages(this.db, userId, ids, UNREAD_COUNT_CAP),
      lastMessageOfMatches(this.db, ids),
      this.views.list(matches, userId),
    ]);
    return views.map((view, i) => {
      const message = last.get(view.id);
      return {
        ...view,
        unread_count: unread.get(view.id) ?? 0,
        last_message: message ? toMessagePreview(message, contactsVisible(matches[i]!)) : null,
      };
    });
  }

  async stats(userId: number): Promise<UserStats> {
    const me = await findUserById(this.db, userId);
    if (!me) throw new AppError('NOT_FOUND', 'No such user.');
    const premium = isPremium(me);
    const counts = await userMatchStats(this.db, userId);
    const limit = premium ? null : this.rules.dailyMatchLimit;
    return {
      user_id: userId,
      is_premium: premium,
      ...counts,
      daily_limit: limit,
      remaining_today: limit === null ? null : Math.max(0, limit - counts.matches_today),
      resets_at: nextUtcMidnight().toISOString(),
    };
  }

  /** The match, if the user is part of it. Anyone else is told it does not exist. */
  async requireParticipant(matchId: number, userId: number): Promise<Match> {
    const match = await findMatchById(this.db, matchId);
    if (!match || !isSideOf(match, userId)) {
      throw new AppError('NOT_FOUND', 'No such match.');
    }
    return match;
  }

  /** The user's match, if it is active and unexpired; 404 or MATCH_NOT_ACTIVE otherwise. */
  async requireLive(matchId: number, userId: number): Promise<Match> {
    const match = await this.requireParticipant(matchId, userId);
    if (match.status !== 'active' || match.expires_at.getTime() <= Date.now()) {
      const status = match.status === 'active' ? 'expired' : match.status;
      throw new AppError('MATCH_NOT_ACTIVE', 'This match has ended.', { status });
    }
    return match;
  }
}
