import type { DiscoveryCard, DiscoveryPage, ParsedDiscoveryScrollQuery } from '@mm/contract';
import { profilesByIds, scrollProfiles, type Database } from '@mm/db';
import type { Kysely } from 'kysely';
import { AppError } from '../errors';
import { toProfileFilters } from './profile-filters';
import type { ProfileRefs } from './profile-refs';

/**
 * Profile discovery: cards of the profiles the caller may see (approved, not deleted, not the
 * caller, not blocked by the caller). Whether someone is or was the caller's match partner changes
 * nothing, so no card can be picked out as the partner's by scrolling before and after a match
 * (nor after being blocked). A card shows only what the find-match filters reveal anyway, under a
 * reference for this caller only (`ProfileRefs`); see `discoveryCard` in the contract for why.
 * The cursor is such a reference too.
 */
export class DiscoveryService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly refs: ProfileRefs,
  ) {}

  /** One page of the scroll, newest profile first; `next_cursor` continues after it. */
  async scroll(userId: number, query: ParsedDiscoveryScrollQuery): Promise<DiscoveryPage> {
    const beforeId = query.cursor === undefined ? undefined : this.cursorId(userId, query.cursor);
    const rows = await scrollProfiles(this.db, userId, {
      ...toProfileFilters(query),
      ...(beforeId !== undefined && { beforeId }),
      limit: query.limit,
    });
    const hasMore = rows.length > query.limit;
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      profiles: page.map((row) => this.card(userId, row)),
      next_cursor: hasMore && last ? this.refs.ref(userId, last.id) : null,
      has_more: hasMore,
    };
  }

  /** The cards behind these refs, in the order asked; refs the caller may not use are left out. */
  async batch(userId: number, refs: string[]): Promise<DiscoveryCard[]> {
    const ids = [...new Set(refs)].flatMap((ref) => this.refs.resolve(userId, ref) ?? []);
    const unique = [...new Set(ids)];
    const byId = new Map(
      (await profilesByIds(this.db, userId, unique)).map((row) => [row.id, row]),
    );
    return unique.flatMap((id) => {
      const row = byId.get(id);
      return row ? [this.card(userId, row)] : [];
    });
  }

  /** Only the card's fields, whatever the row holds, under the caller's reference. */
  private card(userId: number, row: DiscoveryRow): DiscoveryCard {
    return {
      ref: this.refs.ref(userId, row.id),
      gender: row.gender,
      age: row.age,
      city: row.city,
      interests: row.interests,
    };
  }

  private cursorId(userId: number, cursor: string): number {
    const id = this.refs.resolve(userId, cursor);
    if (id !== undefined) return id;
    throw new AppError('VALIDATION_FAILED', 'Invalid request: cursor.', {
      fields: [{ field: 'cursor', message: 'is not a cursor this API gave you' }],
    });
  }
}

type DiscoveryRow = Omit<DiscoveryCard, 'ref'> & { id: number };
