import type { ProfileView } from '@mm/contract';
import type { User } from '@mm/db';

/** A user's own profile as the wire shows it; the one place its timestamp becomes an ISO string. */
export function toProfileView(user: User): ProfileView {
  return {
    id: user.id,
    display_name: user.display_name,
    gender: user.gender,
    birth_date: user.birth_date,
    city: user.city,
    interests: user.interests,
    bio: user.bio,
    photo_url: user.photo_url,
    is_premium: user.is_premium,
    verification_status: user.verification_status,
    verification_note: user.verification_note,
    created_at: user.created_at.toISOString(),
  };
}
