import { FULL_UNLOCK_LEVEL, UNLOCK_THRESHOLDS, unlockShareAt } from '@mm/contract';
import type { Match } from '@mm/db';

/** 0 ("Mystery User") to 4 (everything). */
export type UnlockLevel = 0 | 1 | 2 | 3 | 4;

/** What a match's level follows: its total, each side's messages, and how it ended. */
export type MatchProgress = Pick<
  Match,
  'message_count' | 'a_message_count' | 'b_message_count' | 'status'
>;

/**
 * Ended by a block or an unmatch: each side's view of the other is withdrawn for good (level 0,
 * no photo, no presence), whatever level was reached. An expired match keeps its level.
 */
export function isWithdrawn(match: Pick<Match, 'status'>): boolean {
  return match.status === 'blocked' || match.status === 'unmatched';
}

/**
 * The level a match's messages have opened: a level needs the total to reach its threshold AND
 * each side to have written at least a quarter of it, so both people must take part.
 */
export function levelForCounts(total: number, fewerSide: number): UnlockLevel {
  let level = 0;
  while (
    level < FULL_UNLOCK_LEVEL &&
    total >= UNLOCK_THRESHOLDS[level + 1]! &&
    fewerSide >= unlockShareAt(level + 1)
  ) {
    level++;
  }
  return level as UnlockLevel;
}

/** The level the match has reached; 0 once its partners are withdrawn. */
export function matchLevel(match: MatchProgress): UnlockLevel {
  if (isWithdrawn(match)) return 0;
  return levelForCounts(
    match.message_count,
    Math.min(match.a_message_count, match.b_message_count),
  );
}

/**
 * What the viewer may see: a premium viewer sees everything from the first message, until the
 * match is withdrawn.
 */
export function viewerLevel(match: MatchProgress, viewerIsPremium: boolean): UnlockLevel {
  if (isWithdrawn(match)) return 0;
  return viewerIsPremium ? FULL_UNLOCK_LEVEL : matchLevel(match);
}

/**
 * The total at which the level after `level` can open at the earliest: its threshold, or later
 * when a side still owes part of its share. Null at the last level and once withdrawn.
 */
export function nextLevelAt(match: MatchProgress, level: UnlockLevel): number | null {
  if (level >= FULL_UNLOCK_LEVEL || isWithdrawn(match)) return null;
  const share = unlockShareAt(level + 1);
  const owed =
    Math.max(0, share - match.a_message_count) + Math.max(0, share - match.b_message_count);
  return Math.max(UNLOCK_THRESHOLDS[level + 1]!, match.message_count + owed);
}

/** Percent of blur of the partner's photo at a level; undefined where no photo is shown. */
export function photoBlurAt(level: UnlockLevel): 50 | 25 | 0 | undefined {
  if (level >= FULL_UNLOCK_LEVEL) return 0;
  if (level === 3) return 25;
  if (level === 2) return 50;
  return undefined;
}

/**
 * Contact details in messages show only once the match itself is fully unlocked, and never again
 * once it was withdrawn.
 */
export function contactsVisible(match: MatchProgress): boolean {
  return matchLevel(match) >= FULL_UNLOCK_LEVEL;
}
