import { FULL_UNLOCK_LEVEL, type PartnerView } from '@mm/contract';
import type { Match, User } from '@mm/db';
import { ageOn } from '../users/age';
import {
  isWithdrawn,
  nextLevelAt,
  photoBlurAt,
  type MatchProgress,
  type UnlockLevel,
} from './unlock-levels';

export const MYSTERY_NAME = 'Mystery User';

/** Where a viewer fetches the partner's photo of one match, rendered for the viewer's level. */
export const partnerPhotoPath = (matchId: number, level: UnlockLevel): string =>
  `/api/mystery/matches/${matchId}/partner-photo?level=${level}`;

export interface PartnerSource {
  /** The partner's row; undefined once they deleted their account. */
  user: User | undefined;
  /** Whether the partner uploaded a photo the server can render blurred. */
  hasUploadedPhoto: boolean;
}

/**
 * The partner as a viewer at `level` may see them. Each field is copied only from its level up,
 * so nothing above the level is in the object (docs/design.md §3.4): the clear photo's address
 * appears only at level 4; below it the photo is the per-match endpoint that renders the blur.
 * A match ended by block or unmatch shows the partner withdrawn: a level-0 mystery, for good.
 */
export function partnerView(
  match: Pick<Match, 'id'> & MatchProgress,
  viewerLevel: UnlockLevel,
  { user, hasUploadedPhoto }: PartnerSource,
  today = new Date(),
): PartnerView {
  const withdrawn = isWithdrawn(match);
  const level = withdrawn ? 0 : viewerLevel;
  const matchId = match.id;
  const view: PartnerView = {
    level,
    next_level_at: nextLevelAt(match, level),
    display_name: MYSTERY_NAME,
  };
  if (!user || withdrawn) return view;
  if (level >= 1) {
    view.age = user.birth_date ? ageOn(user.birth_date, today) : null;
    view.city = user.city;
  }
  const blur = photoBlurAt(level);
  if (blur !== undefined) {
    if (hasUploadedPhoto) view.photo_url = partnerPhotoPath(matchId, level);
    // A photo given only as an outside address cannot be blurred here: it waits for level 4.
    else view.photo_url = level >= FULL_UNLOCK_LEVEL ? user.photo_url : null;
    if (blur > 0 && view.photo_url) view.photo_blur = blur;
  }
  if (level >= 3) {
    view.interests = user.interests;
    view.bio = user.bio;
  }
  if (level >= FULL_UNLOCK_LEVEL) {
    view.display_name = user.display_name;
    view.gender = user.gender;
  }
  return view;
}
