import type { ParsedProfileInput, ProfileView } from '@mm/contract';
import {
  eraseAccount,
  findAccountStanding,
  findConnectingUsers,
  findUserById,
  type AccountStanding,
  type ConnectingUser,
  upsertUserProfile,
  type Database,
} from '@mm/db';
import type { Kysely } from 'kysely';
import type { DomainRules } from '../rules';
import { AppError } from '../errors';
import { BatchLoader, CONNECTING_BATCH } from '../batch-loader';
import { announceMatchEnded } from '../realtime/match-events';
import type { Realtime } from '../realtime/realtime';
import type { ContentFilter } from '../text/content-filter';
import { toProfileView } from './profile-view';

export class UserService {
  private readonly connecting = new BatchLoader<number, ConnectingUser>(
    (userIds) => findConnectingUsers(this.db, userIds),
    {
      ...CONNECTING_BATCH,
      missing: () => ({ deleted: false, restriction: undefined, activeMatchIds: [] }),
    },
  );

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rules: Pick<DomainRules, 'autoApproveProfiles'>,
    private readonly realtime: Realtime,
    /** Refuses a name or bio with a filtered word (CONTENT_FILTER=refuse). */
    private readonly contentFilter?: ContentFilter,
  ) {}

  /** Creates or updates the caller's own profile. The id is always the caller's: never from input. */
  async saveProfile(userId: number, profile: ParsedProfileInput): Promise<ProfileView> {
    this.contentFilter?.check('display_name', profile.display_name);
    this.contentFilter?.check('bio', profile.bio);
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
      // A new profile takes this. Later saves keep the status with auto-approval on; with it off a
      // changed name, bio or photo waits for review again (docs/design.md §3.13).
      { verification_status: this.rules.autoApproveProfiles ? 'approved' : 'pending' },
      { reviewChanges: !this.rules.autoApproveProfiles },
    );
    if (!user) throw accountDeleted();
    return toProfileView(user);
  }

  async getProfile(userId: number): Promise<ProfileView> {
    const user = await findUserById(this.db, userId);
    if (!user) throw new AppError('NOT_FOUND', 'No such user.');
    return toProfileView(user);
  }

  /**
   * Deletes the account (docs/design.md §3.10): in one transaction the profile is erased, every
   * active match ended and their messages no longer name them (see `eraseAccount`); then each
   * partner hears `match:ended` as after an unmatch, and the user's own sockets are closed on every
   * pod (a reconnect is refused with ACCOUNT_DELETED). A second call changes nothing.
   */
  async deleteAccount(userId: number): Promise<void> {
    const { endedMatches } = await this.db
      .transaction()
      .execute((trx) => eraseAccount(trx, userId));
    for (const match of endedMatches) announceMatchEnded(this.realtime, match, 'unmatched');
    this.realtime.disconnectUsers([userId]);
  }

  /**
   * A deleted account's token still verifies until it expires; no route but account deletion
   * answers it (410 ACCOUNT_DELETED). A suspended or banned one is refused the same way (403
   * ACCOUNT_SUSPENDED with `details.until`, ACCOUNT_BANNED). A user without a profile yet is
   * neither.
   */
  async requireActiveAccount(userId: number): Promise<void> {
    assertInGoodStanding(await findAccountStanding(this.db, userId));
  }

  /**
   * Admits a connecting socket: ACCOUNT_DELETED, ACCOUNT_SUSPENDED or ACCOUNT_BANNED as above,
   * otherwise the ids of the
   * user's active matches, whose rooms it joins. One round trip, shared by the handshakes that
   * arrive while another batch is read: after a pod dies all of its clients reconnect through here
   * at once.
   */
  async admitConnection(userId: number): Promise<number[]> {
    const { activeMatchIds, ...standing } = await this.connecting.load(userId);
    assertInGoodStanding(standing);
    return activeMatchIds;
  }
}

const accountDeleted = () =>
  new AppError('ACCOUNT_DELETED', 'This account was deleted; it can no longer act.');

/** ACCOUNT_DELETED, ACCOUNT_BANNED or ACCOUNT_SUSPENDED for an account that may not act. */
export function assertInGoodStanding({ deleted, restriction }: AccountStanding): void {
  if (deleted) throw accountDeleted();
  if (restriction?.kind === 'banned') {
    throw new AppError('ACCOUNT_BANNED', 'This account was banned by a moderator.');
  }
  if (restriction) {
    throw new AppError('ACCOUNT_SUSPENDED', 'This account is suspended by a moderator.', {
      until: restriction.until!.toISOString(),
    });
  }
}
