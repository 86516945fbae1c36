/**
 * The caller's JWT as ChatClient and RestClient take it: the token itself, or a function asked
 * for one before each use (each REST request, each socket (re)connect), which may be async, so
 * an app can refresh a token that is about to expire. `undefined`: no token (a public route).
 */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/** The token to send now. */
export async function currentToken(source: TokenSource | undefined): Promise<string | undefined> {
  return typeof source === 'function' ? source() : source;
}
