import type { ProfileFilters } from '@mm/db';

/** The wire's filter fields (find-match, discovery) as the query functions take them. */
export function toProfileFilters(input: {
  gender?: ProfileFilters['gender'] | undefined;
  min_age?: number | undefined;
  max_age?: number | undefined;
  city?: string | undefined;
  interests?: string[] | undefined;
}): ProfileFilters {
  return {
    ...(input.gender && { gender: input.gender }),
    ...(input.min_age !== undefined && { minAge: input.min_age }),
    ...(input.max_age !== undefined && { maxAge: input.max_age }),
    ...(input.city && { city: input.city }),
    ...(input.interests && { interests: input.interests }),
  };
}
