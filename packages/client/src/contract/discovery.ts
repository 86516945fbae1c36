import { z } from 'zod';
import { ageRangeInOrder, genders, profileFilterFields, userId } from './schemas';

/**
 * Profile discovery: browsing who is out there before (and apart from) find-match.
 *
 * The product's promise is that nothing of a stranger's profile reaches a client before the
 * stranger unlocks it in a match. A discovery card therefore carries only what the find-match
 * filters reveal anyway (anyone can learn a candidate's gender, age, city and interests by
 * narrowing the filters until one person is left): never the name, bio, photo, email, birth date
 * or premium state. Nor does discovery ever show someone the caller has been matched with: their
 * card, looked up by the match's `partner_id`, would get ahead of the unlock levels.
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
    interests: queryList(z.string().min(1).max(40))
      .pipe(z.array(z.string()).min(1).max(20))
      .optional()
      .meta({ description: 'Comma-separated; keeps profiles sharing at least one.' }),
    /** The `next_cursor` of the previous page; absent for the first page. */
    cursor: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(DISCOVERY_PAGE_MAX).default(20),
  })
  .refine(...ageRangeInOrder);

export const discoveryBatchQuery = z.object({
  profile_ids: queryList(userId)
    .pipe(z.array(z.number()).min(1).max(DISCOVERY_BATCH_MAX, `at most ${DISCOVERY_BATCH_MAX} ids`))
    .meta({ description: `Comma-separated profile ids, at most ${DISCOVERY_BATCH_MAX}.` }),
});

export const discoveryCard = z
  .object({
    id: z.number().int(),
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
      'until the profile unlocks in a match. People the caller has been matched with never ' +
      'appear in discovery.',
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
    /** In the order asked; ids that are unknown, hidden or blocked are simply absent. */
    profiles: z.array(discoveryCard),
  })
  .meta({ id: 'DiscoveryBatch', description: 'Discovery cards by id.' });

export type DiscoveryScrollQuery = z.input<typeof discoveryScrollQuery>;
