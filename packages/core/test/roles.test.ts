import { hasRole, roleOf, type RoleMapping } from '../src/auth/roles';

const mapping: RoleMapping = {
  groupsClaim: 'groups',
  groups: { moderator: ['support', 'mods'], admin: ['ops'] },
};

describe('the role a token carries', () => {
  it('when the role claim names a role, then it wins over the groups', () => {
    expect(roleOf({ role: 'moderator', groups: ['ops'] }, mapping)).toBe('moderator');
    expect(roleOf({ role: 'admin' }, mapping)).toBe('admin');
  });

  it('when there is no role claim, then the highest role of the groups, as a list or one string', () => {
    expect(roleOf({ groups: ['mods', 'ops'] }, mapping)).toBe('admin');
    expect(roleOf({ groups: ['people', 'support'] }, mapping)).toBe('moderator');
    expect(roleOf({ groups: 'ops' }, mapping)).toBe('admin');
  });

  it('when the role or the groups are unknown or malformed, then the caller is a user', () => {
    expect(roleOf({ role: 'Admin' }, mapping)).toBe('user');
    expect(roleOf({ role: ['admin'] }, mapping)).toBe('user');
    expect(roleOf({ groups: [{ name: 'ops' }, 7] }, mapping)).toBe('user');
    expect(roleOf({}, mapping)).toBe('user');
  });

  it('when no groups claim is configured, then groups grant nothing', () => {
    expect(roleOf({ groups: ['ops'] }, { groups: mapping.groups })).toBe('user');
  });

  it('when roles are compared, then each may do what the ones before it may', () => {
    expect(hasRole('admin', 'moderator')).toBe(true);
    expect(hasRole('moderator', 'moderator')).toBe(true);
    expect(hasRole('moderator', 'admin')).toBe(false);
    expect(hasRole('user', 'moderator')).toBe(false);
  });
});
