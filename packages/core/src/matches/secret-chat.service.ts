import type { MatchView } from '@mm/contract';
import { acceptSecretChat, requestSecretChat, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import type { Realtime } from '../realtime/realtime';
import type { MatchViews } from '../unlock/match-views';
import type { MatchService } from './match.service';

/**
 * Secret chat: one side asks, the other accepts. While it is active the message writer stores new
 * messages as secret, expiring SECRET_MESSAGE_TTL_SECONDS after they are sent; the sweeper purges
 * them and history and sync never return an expired one.
 */
export class SecretChatService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly matches: MatchService,
    private readonly realtime: Realtime,
    private readonly views: MatchViews,
  ) {}

  /** Asking again, or after the other side asked, changes nothing and answers the match as is. */
  async request(userId: number, matchId: number): Promise<MatchView> {
    const match = await requestSecretChat(this.db, matchId, userId);
    if (!match)
      return this.views.forViewer(await this.matches.requireLive(matchId, userId), userId);
    this.realtime.toUsers([match.user_a, match.user_b], 'secret_chat:requested', {
      match_id: match.id,
      requested_by: userId,
    });
    return this.views.forViewer(match, userId);
  }

  /** Only the side that did not ask may accept; accepting an active one changes nothing. */
  async accept(userId: number, matchId: number): Promise<MatchView> {
    const match = await acceptSecretChat(this.db, matchId, userId);
    if (!match) {
      const current = await this.matches.requireLive(matchId, userId);
      if (current.secret_chat === 'active') return this.views.forViewer(current, userId);
      throw new AppError(
        'SECRET_CHAT_NOT_REQUESTED',
        current.secret_chat === 'requested'
          ? 'Only your partner can accept your request.'
          : 'Your partner has not asked for a secret chat.',
        { secret_chat: current.secret_chat },
      );
    }
    this.realtime.toUsers([match.user_a, match.user_b], 'secret_chat:active', {
      match_id: match.id,
      requested_by: match.secret_requested_by!,
    });
    return this.views.forViewer(match, userId);
  }
}
