/** Who a caller is to the service, least to most: each role may do what the ones before it may. */
export const ROLES = ['user', 'moderator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The identity a verified token proves. */
export interface Principal {
  userId: number;
  role: Role;
}

/** True when `role` may do what `required` may. */
export const hasRole = (role: Role, required: Role): boolean =>
  ROLES.indexOf(role) >= ROLES.indexOf(required);

/**
 * How a token's claims name a role. A `role` claim naming one of `ROLES` wins; otherwise, when
 * `groupsClaim` is set, the highest role one of whose groups is in that claim (an array of
 * strings, or one string); otherwise `user`. An unknown role or group is `user`: a typo in the
 * identity provider never grants more.
 */
export interface RoleMapping {
  groupsClaim?: string;
  groups: { moderator: string[]; admin: string[] };
}

export const NO_GROUP_ROLES: RoleMapping = { groups: { moderator: [], admin: [] } };

export function roleOf(claims: Record<string, unknown>, mapping: RoleMapping): Role {
  const claimed = claims.role;
  if (typeof claimed === 'string' && (ROLES as readonly string[]).includes(claimed)) {
    return claimed as Role;
  }
  if (!mapping.groupsClaim) return 'user';
  const value = claims[mapping.groupsClaim];
  const groups = new Set(
    (Array.isArray(value) ? value : [value]).filter((g): g is string => typeof g === 'string'),
  );
  if (mapping.groups.admin.some((g) => groups.has(g))) return 'admin';
  if (mapping.groups.moderator.some((g) => groups.has(g))) return 'moderator';
  return 'user';
}
