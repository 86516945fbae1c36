import { ageOn } from '../users/age';

/** What compatibility is scored on. */
export interface ScoredProfile {
  /** 'YYYY-MM-DD'. */
  birth_date: string | null;
  city: string | null;
  interests: string[];
}

/** Points per shared interest, the most for an age gap of 0, and for the same city. */
const PER_SHARED_INTEREST = 10;
const AGE_POINTS = 10;
const SAME_CITY = 5;

/**
 * How well two people fit, higher is better: 10 per shared interest (case-insensitive), up to 10
 * for closeness in age (one less per year apart), 5 for the same city. Symmetric, so one cached
 * score serves both directions.
 */
export function compatibility(a: ScoredProfile, b: ScoredProfile, today = new Date()): number {
  const theirs = new Set(b.interests.map((i) => i.toLowerCase()));
  const shared = new Set(a.interests.map((i) => i.toLowerCase()).filter((i) => theirs.has(i)));
  let score = shared.size * PER_SHARED_INTEREST;
  if (a.birth_date && b.birth_date) {
    const gap = Math.abs(ageOn(a.birth_date, today) - ageOn(b.birth_date, today));
    score += Math.max(0, AGE_POINTS - gap);
  }
  if (a.city && b.city && a.city.toLowerCase() === b.city.toLowerCase()) score += SAME_CITY;
  return score;
}
