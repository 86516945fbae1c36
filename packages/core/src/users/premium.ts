import type { User } from '@mm/db';

/** Premium now: the flag, and no end date or one still ahead. */
export function isPremium(
  user: Pick<User, 'is_premium' | 'premium_until'>,
  now = new Date(),
): boolean {
  return (
    user.is_premium && (user.premium_until === null || user.premium_until.getTime() > now.getTime())
  );
}
