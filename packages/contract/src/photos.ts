import { z } from 'zod';
import { coerced, requestNumber } from './schemas.js';
import { FULL_UNLOCK_LEVEL } from './wire.js';

/** The formats a profile photo may be uploaded in (`PUT /api/users/me/photo`, raw body). */
export const photoUploadTypes = ['image/jpeg', 'image/png', 'image/webp'] as const;
/** What every stored rendition is served as. */
export const photoContentType = 'image/webp';

/**
 * `GET /api/mystery/matches/{match_id}/partner-photo`: `level` only keys caches (a new level, a new
 * URL); the server serves the rendition of the caller's level now, whatever it says.
 */
export const partnerPhotoQuery = z.object({
  level: coerced(requestNumber.int().min(0).max(FULL_UNLOCK_LEVEL)).optional(),
});
