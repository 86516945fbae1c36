import { z } from 'zod';
import {
  ageRangeInOrder,
  coerced,
  genders,
  profileFilterFields,
  requestNumber,
} from './schemas.js';
import { text } from './text.js';

/**
 * Profile discovery: browsing who is out there before (and apart from) find-match.
 *
 * The product's promise is that nothing of a stranger's profile reaches a client before the
 * stranger unlocks it in a match. A discovery card therefore carries only what the find-match
 * filters reveal anyway (anyone can learn a candidate's gender, age, city and interests by
 * narrowing the filters until one person is left): never the name, bio, photo, email, birth date
 * or premium state. A card names its profile by an opaque `ref` valid for the caller only, never
 * the user id: cards noted while scrolling cannot be matched to a later partner's `partner_id`.
 * Nor does discovery ever show someone the caller has been matched with.
 */

/** A list in a query string: `a,b` or `x=a&x=b`, both read as `['a', 'b']`. */
const queryList = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      (Array.isArray(value) ? value : [value])
        .flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]))
        .map((v) => (typeof v === 'string' ? v.trim() : v))
        .filter((v) => v !== ''),
    z.array(item),
  );

/** The most cards one scroll page carries. */
export const DISCOVERY_PAGE_MAX = 50;
/** The most ids one batch request may name. */
export const DISCOVERY_BATCH_MAX = 50;

export const discoveryScrollQuery = z
  .object({
    ...profileFilterFields,
    interests: queryList(text.min(1).max(40))
      .pipe(z.array(z.string()).min(1).max(20))
      .optional()
      .meta({ description: 'Comma-separated; keeps profiles sharing at least one.' }),
    /** The `next_cursor` of the previous page; absent for the first page. */
    cursor: text.min(1).max(200).optional(),
    limit: coerced(requestNumber.int().min(1).max(DISCOVERY_PAGE_MAX)).default(20),
  })
  .refine(...ageRangeInOrder);

/** A card's `ref`: base64url, as the server hands it out. */
const profileRef = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'is not a profile ref');

export const discoveryBatchQuery = z.object({
  profile_ids: queryList(profileRef)
    .pipe(
      z.array(z.string()).min(1).max(DISCOVERY_BATCH_MAX, `at most ${DISCOVERY_BATCH_MAX} refs`),
    )
    .meta({
      description: `Comma-separated card \`ref\`s from discovery, at most ${DISCOVERY_BATCH_MAX}.`,
    }),
});

export const discoveryCard = z
  .object({
    /** Opaque and valid for the caller only (batch takes it back); not the user id. */
    ref: z.string(),
    gender: z.enum(genders).nullable(),
    /** Whole years, from the UTC date; null when the profile has no birth date. */
    age: z.number().int().nullable(),
    city: z.string().nullable(),
    interests: z.array(z.string()),
  })
  .meta({
    id: 'DiscoveryCard',
    description:
      'A profile as discovery shows it: only what the find-match filters reveal anyway (gender, ' +
      'age, city, interests). Name, bio, photo, email, birth date and premium state stay hidden ' +
      'until the profile unlocks in a match. `ref` names the profile for this caller only, never by ' +
      'its user id. People the caller has been matched with never appear in discovery.',
  });
export type DiscoveryCard = z.infer<typeof discoveryCard>;

export const discoveryPage = z
  .object({
    profiles: z.array(discoveryCard),
    /** Opaque: pass as `cursor` for the next page; null on the last page. */
    next_cursor: z.string().nullable(),
    has_more: z.boolean(),
  })
  .meta({ id: 'DiscoveryPage', description: 'A page of discovery cards.' });
export type DiscoveryPage = z.infer<typeof discoveryPage>;

export const discoveryBatch = z
  .object({
    /** In the order asked; refs that are unknown, hidden, blocked or not the caller's are absent. */
    profiles: z.array(discoveryCard),
  })
  .meta({ id: 'DiscoveryBatch', description: 'Discovery cards by ref.' });

export type DiscoveryScrollQuery = z.input<typeof discoveryScrollQuery>;
export type ParsedDiscoveryScrollQuery = z.output<typeof discoveryScrollQuery>;
