import { RestClient } from '@mm/client';

/** Who this tab is signed in as. Kept in sessionStorage: each tab can be a different demo user. */
export interface Session {
  userId: number;
  token: string;
  rest: RestClient;
  /** The role the token carries: moderators and admins also get the moderation view. */
  role: DemoRole;
}

export type DemoRole = 'user' | 'moderator' | 'admin';
const ROLES: readonly string[] = ['user', 'moderator', 'admin'];

const KEY = 'mm.session';

/** The API and the socket live on the page's own origin (the embedded default serves both). */
export const apiOrigin = (): string => window.location.origin;

function open(userId: number, token: string, role: DemoRole): Session {
  return { userId, token, role, rest: new RestClient(apiOrigin(), () => token) };
}

/** Signs in as any user id and role through the development token endpoint (DEV_TOKENS on). */
export async function signIn(userId: number, role: DemoRole = 'user'): Promise<Session> {
  const { token } = await new RestClient(apiOrigin(), () => undefined).request<{ token: string }>(
    'POST',
    '/api/auth/dev-token',
    { user_id: userId, role },
  );
  sessionStorage.setItem(KEY, JSON.stringify({ userId, token, role }));
  return open(userId, token, role);
}

export function restoreSession(): Session | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as {
      userId?: unknown;
      token?: unknown;
      role?: unknown;
    } | null;
    if (typeof saved?.userId === 'number' && typeof saved.token === 'string') {
      const role = ROLES.includes(saved.role as string) ? (saved.role as DemoRole) : 'user';
      return open(saved.userId, saved.token, role);
    }
  } catch {
    // a damaged entry: sign in again
  }
  return undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
