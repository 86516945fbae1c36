import { FULL_UNLOCK_LEVEL, UNLOCK_THRESHOLDS } from '@mm/client/contract';

/** 0 ("Mystery User") to 4 (everything). */
export type UnlockLevel = 0 | 1 | 2 | 3 | 4;

/** The level a match's total message count has reached. */
export function levelForCount(messageCount: number): UnlockLevel {
  let level = 0;
  while (level < FULL_UNLOCK_LEVEL && messageCount >= UNLOCK_THRESHOLDS[level + 1]!) level++;
  return level as UnlockLevel;
}

/** What the viewer may see: a premium viewer sees everything from the first message. */
export function viewerLevel(messageCount: number, viewerIsPremium: boolean): UnlockLevel {
  return viewerIsPremium ? FULL_UNLOCK_LEVEL : levelForCount(messageCount);
}

/** The total message count at which the level after this one opens; null at the last level. */
export function nextLevelAt(level: UnlockLevel): number | null {
  return level < FULL_UNLOCK_LEVEL ? UNLOCK_THRESHOLDS[level + 1]! : null;
}

/** The level a message count just reached, when the message that made it crossed one. */
export function levelCrossedAt(messageCount: number): UnlockLevel | undefined {
  const level = levelForCount(messageCount);
  return level > 0 && UNLOCK_THRESHOLDS[level] === messageCount ? level : undefined;
}

/** Percent of blur of the partner's photo at a level; undefined where no photo is shown. */
export function photoBlurAt(level: UnlockLevel): 50 | 25 | 0 | undefined {
  if (level >= FULL_UNLOCK_LEVEL) return 0;
  if (level === 3) return 25;
  if (level === 2) return 50;
  return undefined;
}

/** Contact details in messages show only once the match itself is fully unlocked. */
export function contactsVisible(messageCount: number): boolean {
  return levelForCount(messageCount) >= FULL_UNLOCK_LEVEL;
}
