import { profileInput, type ProfileInput, type ProfileView } from '@mm/client/contract';
import { findUserById, upsertUserProfile, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import type { DomainRules } from '../config/env';
import { AppError } from '../errors';
import { toProfileView } from '../views';

export class UserService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly rules: Pick<DomainRules, 'autoApproveProfiles'>,
  ) {}

  /** Creates or updates the caller's own profile. The id is always the caller's: never from input. */
  async saveProfile(userId: number, input: ProfileInput): Promise<ProfileView> {
    const profile = profileInput.parse(input);
    const user = await upsertUserProfile(
      this.db,
      userId,
      {
        display_name: profile.display_name,
        gender: profile.gender ?? null,
        birth_date: profile.birth_date ?? null,
        city: profile.city ?? null,
        interests: profile.interests,
        bio: profile.bio ?? null,
        photo_url: profile.photo_url ?? null,
      },
      // Only a new profile takes this; a later save never changes the status.
      { verification_status: this.rules.autoApproveProfiles ? 'approved' : 'pending' },
    );
    return toProfileView(user);
  }

  async getProfile(userId: number): Promise<ProfileView> {
    const user = await findUserById(this.db, userId);
    if (!user) throw new AppError('NOT_FOUND', 'No such user.');
    return toProfileView(user);
  }
}
