import { RestClient } from '@mm/client';

/** Who this tab is signed in as. Kept in sessionStorage: each tab can be a different demo user. */
export interface Session {
  userId: number;
  token: string;
  rest: RestClient;
}

const KEY = 'mm.session';

/** The API and the socket live on the page's own origin (the embedded default serves both). */
export const apiOrigin = (): string => window.location.origin;

function open(userId: number, token: string): Session {
  return { userId, token, rest: new RestClient(apiOrigin(), () => token) };
}

/** Signs in as any user id through the development token endpoint (DEV_TOKENS on). */
export async function signIn(userId: number): Promise<Session> {
  const token = await new RestClient(apiOrigin(), () => undefined).devToken(userId);
  sessionStorage.setItem(KEY, JSON.stringify({ userId, token }));
  return open(userId, token);
}

export function restoreSession(): Session | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as {
      userId?: unknown;
      token?: unknown;
    } | null;
    if (typeof saved?.userId === 'number' && typeof saved.token === 'string') {
      return open(saved.userId, saved.token);
    }
  } catch {
    // a damaged entry: sign in again
  }
  return undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
