import {
  discoveryBatchQuery,
  discoveryScrollQuery,
  type DiscoveryCard,
  type DiscoveryPage,
  type DiscoveryScrollQuery,
} from '@mm/client/contract';
import { profilesByIds, scrollProfiles, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import { toProfileFilters } from './profile-filters';

/**
 * Profile discovery: cards of the profiles the caller may see (approved, not deleted, not the
 * caller, not blocked either way, never matched with the caller). A card shows only what the find-match filters reveal anyway;
 * see `discoveryCard` in the contract for why.
 */
export class DiscoveryService {
  constructor(private readonly db: Kysely<Database>) {}

  /** One page of the scroll, newest profile first; `next_cursor` continues after it. */
  async scroll(userId: number, input: DiscoveryScrollQuery): Promise<DiscoveryPage> {
    const query = discoveryScrollQuery.parse(input);
    const beforeId = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await scrollProfiles(this.db, userId, {
      ...toProfileFilters(query),
      ...(beforeId !== undefined && { beforeId }),
      limit: query.limit,
    });
    const hasMore = rows.length > query.limit;
    const profiles = rows.slice(0, query.limit).map(toCard);
    const last = profiles.at(-1);
    return {
      profiles,
      next_cursor: hasMore && last ? encodeCursor(last.id) : null,
      has_more: hasMore,
    };
  }

  /** The cards of these ids, in the order asked; unknown or hidden ids are left out. */
  async batch(userId: number, profileIds: number[]): Promise<DiscoveryCard[]> {
    const { profile_ids: ids } = discoveryBatchQuery.parse({ profile_ids: profileIds });
    const unique = [...new Set(ids)];
    const byId = new Map(
      (await profilesByIds(this.db, userId, unique)).map((row) => [row.id, toCard(row)]),
    );
    return unique.flatMap((id) => byId.get(id) ?? []);
  }
}

/** Only the card's fields, whatever the row holds. */
function toCard(row: DiscoveryCard): DiscoveryCard {
  return {
    id: row.id,
    gender: row.gender,
    age: row.age,
    city: row.city,
    interests: row.interests,
  };
}

// The cursor is opaque to clients (base64url JSON), so the keyset behind it may change later.
function encodeCursor(beforeId: number): string {
  return Buffer.from(JSON.stringify({ before: beforeId })).toString('base64url');
}

function decodeCursor(cursor: string): number {
  try {
    const { before } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      before?: unknown;
    };
    if (typeof before === 'number' && Number.isSafeInteger(before) && before > 0) return before;
  } catch {
    // falls through to the 400 below
  }
  throw new AppError('VALIDATION_FAILED', 'Invalid request: cursor.', {
    fields: [{ field: 'cursor', message: 'is not a cursor this API gave out' }],
  });
}
