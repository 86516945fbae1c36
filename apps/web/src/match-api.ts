import type { FindMatchRequest, MatchView, reportReasons } from '@mm/client';

/**
 * What the demo needs that the SDK does not carry yet: the photo endpoints (upload, and the
 * partner's photo at the viewer's unlock level). This is the one module that knows those paths.
 */

export type Gender = NonNullable<FindMatchRequest['gender']>;
export type MatchFilters = Omit<FindMatchRequest, 'user_id'>;

/** A match with the partner as far as the chat unlocked them. */
export type DemoMatch = MatchView;

export type ReportReason = (typeof reportReasons)[number];

export const REPORT_REASONS: ReadonlyArray<[ReportReason, string]> = [
  ['spam', 'Spam'],
  ['harassment', 'Harassment'],
  ['inappropriate', 'Inappropriate content'],
  ['fake_profile', 'Fake profile'],
  ['underage', 'Under age'],
  ['other', 'Something else'],
];

/** Uploads the caller's photo as raw image bytes; the server re-encodes it and renders the blurs. */
export async function uploadPhoto(token: string, origin: string, file: File): Promise<void> {
  const response = await fetch(new URL('/api/users/me/photo', origin), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': file.type },
    body: file,
  });
  if (!response.ok) throw new Error(await errorMessage(response));
}

/**
 * The partner's photo at the viewer's level (blurred by the server below level 4). The endpoint
 * wants the token, which an <img src> cannot send, so it is fetched and shown as an object URL.
 */
export async function partnerPhoto(token: string, origin: string, path: string): Promise<Blob> {
  const response = await fetch(new URL(path, origin), {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.blob();
}

async function errorMessage(response: Response): Promise<string> {
  const body = (await response.json().catch(() => undefined)) as
    { error?: { message?: string } } | undefined;
  return body?.error?.message ?? `${response.status} ${response.statusText}`;
}
