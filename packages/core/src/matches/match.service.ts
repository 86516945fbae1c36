import type { MatchView } from '@mm/client/contract';
import {
  findMatchById,
  findPlainCandidate,
  findUserById,
  insertActiveMatch,
  listActiveMatchIds,
  listMatchesOfUser,
  orderedPair,
  type Database,
  type Match,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import type { Realtime } from '../realtime/realtime';
import { toMatchView } from '../views';

const MATCH_LIFETIME_MS = 48 * 3600 * 1000;
/** A candidate may be taken by a concurrent request for the same pair: try the next one. */
const MAX_PAIRING_ATTEMPTS = 3;

export class MatchService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
  ) {}

  /** Pairs the caller with a candidate and tells both sides' sockets, on every pod. */
  async findMatch(userId: number): Promise<MatchView> {
    if (!(await findUserById(this.db, userId))) {
      throw new AppError('PROFILE_REQUIRED', 'Create your profile before finding a match.');
    }
    for (let attempt = 0; attempt < MAX_PAIRING_ATTEMPTS; attempt++) {
      const candidate = await findPlainCandidate(this.db, userId);
      if (!candidate) break;
      const match = await insertActiveMatch(this.db, {
        ...orderedPair(userId, candidate.id),
        created_by: userId,
        expires_at: new Date(Date.now() + MATCH_LIFETIME_MS),
      });
      if (!match) continue;
      const pair = [match.user_a, match.user_b];
      this.realtime.joinMatch(pair, match.id);
      this.realtime.toUsers([candidate.id], 'match:new', toMatchView(match, candidate.id));
      this.realtime.toUsers([userId], 'match:new', toMatchView(match, userId));
      return toMatchView(match, userId);
    }
    throw new AppError('NO_CANDIDATES', 'Nobody is available right now; try again later.');
  }

  async listMatches(userId: number): Promise<MatchView[]> {
    const matches = await listMatchesOfUser(this.db, userId);
    return matches.map((match) => toMatchView(match, userId));
  }

  /** The rooms a connecting socket joins. */
  activeMatchIds(userId: number): Promise<number[]> {
    return listActiveMatchIds(this.db, userId);
  }

  /** The match, if the user is part of it. Anyone else is told it does not exist. */
  async requireParticipant(matchId: number, userId: number): Promise<Match> {
    const match = await findMatchById(this.db, matchId);
    if (!match || (match.user_a !== userId && match.user_b !== userId)) {
      throw new AppError('NOT_FOUND', 'No such match.');
    }
    return match;
  }
}
