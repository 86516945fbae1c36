import {
  deleteUserPhoto,
  findPhotoRendition,
  findUserById,
  saveUserPhoto,
  partnerOf,
  requestProfileReview,
  type Database,
  type PhotoRendition,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import type { MatchService } from '../matches/match.service';
import { isPremium } from '../users/premium';
import { isWithdrawn, viewerLevel } from '../unlock/unlock-levels';
import { photoContentType, photoUploadTypes } from '@mm/contract';
import { renderPhoto } from './photo-renditions';

export interface PhotoFile {
  content_type: string;
  bytes: Buffer;
  updated_at: Date;
}

/** Which stored rendition a level shows; below level 2 there is no photo at all. */
const RENDITION_AT_LEVEL: Record<number, PhotoRendition | undefined> = {
  2: 'blur_50',
  3: 'blur_25',
  4: 'clear',
};

/**
 * Profile photos: uploaded once, rendered into the clear and blurred renditions at upload, and
 * served per match at the rendition of the viewer's level (docs/design.md §3.4). The level is
 * checked on every request, so the blurred URL of level 2 never yields the clear photo.
 */
export class PhotoService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly matches: MatchService,
    /** The largest upload accepted, in bytes (PHOTO_MAX_BYTES). */
    readonly maxBytes: number,
    /** Auto-approval off: a new photo sends the profile back to review (docs/design.md §3.13). */
    private readonly reviewChanges = false,
  ) {}

  async upload(userId: number, contentType: string | undefined, bytes: Buffer): Promise<void> {
    const type = contentType?.split(';')[0]?.trim().toLowerCase();
    if (!type || !(photoUploadTypes as readonly string[]).includes(type)) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Upload a JPEG, PNG or WebP image.', {
        accepted: photoUploadTypes,
      });
    }
    if (bytes.length === 0) throw new AppError('INVALID_IMAGE', 'The upload is empty.');
    if (bytes.length > this.maxBytes) {
      throw new AppError('PAYLOAD_TOO_LARGE', 'The photo is too large.', {
        max_bytes: this.maxBytes,
      });
    }
    await this.requireProfile(userId);
    const renditions = await renderPhoto(bytes);
    await this.db.transaction().execute(async (trx) => {
      await saveUserPhoto(trx, { user_id: userId, content_type: photoContentType, ...renditions });
      if (this.reviewChanges) await requestProfileReview(trx, userId);
    });
  }

  /** The caller's own photo, clear. */
  async own(userId: number): Promise<PhotoFile> {
    return this.rendition(userId, 'clear');
  }

  async remove(userId: number): Promise<void> {
    if (!(await deleteUserPhoto(this.db, userId))) {
      throw new AppError('NOT_FOUND', 'You have no uploaded photo.');
    }
  }

  /**
   * The partner's photo in one of the caller's matches, as blurred as the caller's level says.
   * Once the match ended by block or unmatch the partner is withdrawn: 404, as for a partner with
   * no photo, whatever level was reached and whatever they upload since.
   */
  async ofPartner(viewerId: number, matchId: number): Promise<PhotoFile> {
    const match = await this.matches.requireParticipant(matchId, viewerId);
    if (isWithdrawn(match)) {
      throw new AppError('NOT_FOUND', 'No photo to show: this match has ended.');
    }
    const partnerId = partnerOf(match, viewerId);
    const viewer = await findUserById(this.db, viewerId);
    const level = viewerLevel(match, viewer !== undefined && isPremium(viewer));
    const rendition = RENDITION_AT_LEVEL[level];
    if (!rendition) {
      throw new AppError('PHOTO_LOCKED', 'The photo opens at level 2 of this match.', {
        level,
        opens_at_level: 2,
      });
    }
    return this.rendition(partnerId, rendition);
  }

  private async rendition(userId: number, rendition: PhotoRendition): Promise<PhotoFile> {
    const file = await findPhotoRendition(this.db, userId, rendition);
    if (!file) throw new AppError('NOT_FOUND', 'No photo was uploaded.');
    return file;
  }

  private async requireProfile(userId: number): Promise<void> {
    if (!(await findUserById(this.db, userId)))
      throw new AppError('PROFILE_REQUIRED', 'Create your profile before a photo.');
  }
}
