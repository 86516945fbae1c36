import {
  matchParams,
  okResponse,
  partnerPhotoQuery,
  photoContentType,
  photoUploadTypes,
} from '@mm/contract';
import type { Services } from '@mm/core';
import { binaryFile, route, type AnyRouteSpec } from '../http/route-table';

/** Served photos change only by a new upload (own) or a new level (a new URL): cache briefly. */
const PRIVATE_CACHE = 'private, max-age=300';

/** Profile photos: the caller's own upload, and each partner's at the caller's unlock level. */
export function photoRoutes({ photos }: Services): AnyRouteSpec[] {
  return [
    route({
      method: 'put',
      path: '/api/users/me/photo',
      summary: "Upload the caller's profile photo",
      description:
        'The raw image as the body (JPEG, PNG or WebP, at most PHOTO_MAX_BYTES), judged by the ' +
        'format its bytes decode as, not by the declared type (an SVG, GIF or TIFF is 415). It is resized, ' +
        'stripped of metadata and stored with the blurred renditions that partners see at unlock ' +
        'levels 2 and 3.',
      tags: ['users'],
      auth: true,
      upload: { contentTypes: photoUploadTypes, maxBytes: photos.maxBytes },
      response: okResponse,
      errors: ['UNSUPPORTED_MEDIA_TYPE', 'INVALID_IMAGE', 'PROFILE_REQUIRED'],
      handler: async ({ userId, upload }) => {
        await photos.upload(userId, upload.contentType, upload.bytes);
        return { ok: true as const };
      },
    }),
    route({
      method: 'get',
      path: '/api/users/me/photo',
      summary: "The caller's own photo, clear",
      tags: ['users'],
      auth: true,
      response: binaryFile,
      binary: { contentTypes: [photoContentType], cacheControl: 'private, no-cache' },
      errors: ['NOT_FOUND'],
      handler: ({ userId }) => photos.own(userId),
    }),
    route({
      method: 'delete',
      path: '/api/users/me/photo',
      summary: "Delete the caller's uploaded photo",
      tags: ['users'],
      auth: true,
      response: okResponse,
      errors: ['NOT_FOUND'],
      handler: async ({ userId }) => {
        await photos.remove(userId);
        return { ok: true as const };
      },
    }),
    route({
      method: 'get',
      path: '/api/mystery/matches/{match_id}/partner-photo',
      summary: "The partner's photo at the caller's unlock level",
      description:
        'Blurred 50 % at level 2, 25 % at level 3, clear at level 4 (premium callers: clear). ' +
        'Below level 2 it is 403 PHOTO_LOCKED. The URL to use is `partner.photo_url` of the match.',
      tags: ['matches'],
      auth: true,
      params: matchParams,
      query: partnerPhotoQuery,
      response: binaryFile,
      binary: { contentTypes: [photoContentType], cacheControl: PRIVATE_CACHE },
      errors: ['NOT_FOUND', 'PHOTO_LOCKED'],
      handler: ({ userId, params }) => photos.ofPartner(userId, params.match_id),
    }),
  ];
}
