import sharp from 'sharp';
import { photoUploadTypes } from '@mm/contract';
import { AppError } from '../errors';

/** The clear photo's longest side; blurred ones need no more than half of it. */
const CLEAR_MAX_SIDE = 1024;
const BLURRED_MAX_SIDE = 512;
/** Refuse decompression bombs: a small file that decodes to a huge bitmap. */
const MAX_INPUT_PIXELS = 40_000_000;

/** sharp's names of the formats the API accepts: `image/jpeg` → `jpeg`, and so on. */
const ACCEPTED_FORMATS: readonly string[] = photoUploadTypes.map((type) => type.split('/')[1]!);

export interface PhotoRenditions {
  clear: Buffer;
  blur_50: Buffer;
  blur_25: Buffer;
  width: number;
  height: number;
}

/**
 * Decodes an upload once and renders what the unlock levels show: the clear photo (level 4) and
 * two blurs (levels 2 and 3). The blur's sigma is the percentage of an eighth of the image's
 * longest side, so "50 %" hides a face at any resolution and "25 %" leaves its outline. EXIF
 * orientation is applied and all metadata (GPS included) dropped: sharp writes none unless asked.
 */
export async function renderPhoto(upload: Buffer): Promise<PhotoRenditions> {
  const input = sharp(upload, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' }).rotate();
  const format = await decodedFormat(input);
  // Judged by what the bytes are, not by the declared type: an SVG, GIF or TIFF sent as
  // image/png would otherwise be decoded (by a larger attack surface) and stored.
  if (!ACCEPTED_FORMATS.includes(format)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Upload a JPEG, PNG or WebP image.', {
      accepted: photoUploadTypes,
      format,
    });
  }
  try {
    const clear = await input
      .clone()
      .resize(CLEAR_MAX_SIDE, CLEAR_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 82 })
      .toBuffer({ resolveWithObject: true });
    // The longest side of the blurred renditions (rotation swaps sides, not the longest).
    const side = Math.min(BLURRED_MAX_SIDE, Math.max(clear.info.width, clear.info.height));
    const blurred = (percent: number) =>
      input
        .clone()
        .resize(BLURRED_MAX_SIDE, BLURRED_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
        .blur(Math.max(0.3, (percent / 100) * (side / 8)))
        .webp({ quality: 70 })
        .toBuffer();
    const [blur50, blur25] = await Promise.all([blurred(50), blurred(25)]);
    return {
      clear: clear.data,
      blur_50: blur50,
      blur_25: blur25,
      width: clear.info.width,
      height: clear.info.height,
    };
  } catch (error) {
    throw unreadable(error);
  }
}

/** The format sharp reads from the upload's header, before anything is decoded. */
async function decodedFormat(input: sharp.Sharp): Promise<string> {
  try {
    const { format } = await input.metadata();
    return format;
  } catch (error) {
    throw unreadable(error);
  }
}

const unreadable = (error: unknown) =>
  new AppError('INVALID_IMAGE', 'The upload is not a readable JPEG, PNG or WebP image.', {
    reason: error instanceof Error ? error.message : String(error),
  });
