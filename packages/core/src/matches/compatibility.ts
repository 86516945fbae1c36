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
  return compatibilityWith(a, today)(b);
}

/**
 * `compatibility` with `a` fixed: a's interests, age and city are read once, not once for each
 * of the candidates a search ranks.
 */
export function compatibilityWith(
  a: ScoredProfile,
  today = new Date(),
): (b: ScoredProfile) => number {
  const mine = new Set(a.interests.map((i) => i.toLowerCase()));
  const myAge = a.birth_date ? ageOn(a.birth_date, today) : undefined;
  const myCity = a.city?.toLowerCase();
  return (b) => {
    // Each shared interest once, however often either side wrote it.
    const shared = new Set(b.interests.map((i) => i.toLowerCase()).filter((i) => mine.has(i)));
    let score = shared.size * PER_SHARED_INTEREST;
    if (myAge !== undefined && b.birth_date) {
      score += Math.max(0, AGE_POINTS - Math.abs(myAge - ageOn(b.birth_date, today)));
    }
    if (myCity && b.city && myCity === b.city.toLowerCase()) score += SAME_CITY;
    return score;
  };
}
