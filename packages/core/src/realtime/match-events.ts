import type { MatchEndReason } from '@mm/contract';
import type { Realtime } from './realtime';

/**
 * Tells both users a match is over (every device, through their user rooms) and takes every
 * socket of theirs, on every pod, out of the match room: nothing more of it reaches them live.
 */
export function announceMatchEnded(
  realtime: Realtime,
  match: { id: number; user_a: number; user_b: number },
  reason: MatchEndReason,
): void {
  const pair = [match.user_a, match.user_b];
  realtime.toUsers(pair, 'match:ended', { match_id: match.id, reason });
  realtime.leaveMatch(pair, match.id);
}
