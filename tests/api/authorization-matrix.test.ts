import { apiRoutes, type AnyRouteSpec } from '@mm/api';
import { roles, type MatchView } from '@mm/contract';
import { callJson } from '@mm/test-support/http';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/**
 * Who may call what, for every authenticated route of the route table (`apiRoutes`), on the real
 * embedded service:
 *   (a) without a token: 401;
 *   (b) as B, naming A's user_id (path, query or body): 403;
 *   (c) as a third user C, naming A and B's match: 404 NOT_FOUND, exactly as a match that does not
 *       exist (never 200, never anything that tells the match is there).
 *   (d) with a token of each role (user, moderator, admin): a route that needs a role answers 403
 *       FORBIDDEN below it and is let through at or above it; every other route lets each role
 *       through (its answer is then the route's own, never 401 or 403).
 * Nothing may answer 500. Every authenticated route needs a fixture below, and every public route
 * must be listed as public: a new route fails this test until it is covered.
 */

interface Inputs {
  params?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: Record<string, unknown>;
}

/** The ids a fixture fills in: `self` is whoever the request claims to be. */
interface Ids {
  self: number;
  matchId: number;
  otherUser: number;
}

/**
 * Valid inputs for each authenticated route, as its caller would send them: `user_id` wherever
 * the route takes one (optional ones included), the match wherever it takes a `match_id`.
 */
const FIXTURES: Record<string, (ids: Ids) => Inputs> = {
  'put /api/users/me': () => ({ body: { display_name: 'Matrix' } }),
  'get /api/users/me': () => ({}),
  'delete /api/users/delete-account': ({ self }) => ({
    query: { user_id: self },
    body: { user_id: self },
  }),
  'put /api/users/me/photo': () => ({}),
  'get /api/users/me/photo': () => ({}),
  'delete /api/users/me/photo': () => ({}),
  'post /api/mystery/find-match': ({ self }) => ({ body: { user_id: self, city: 'Nowhere' } }),
  'get /api/mystery/my-matches/{user_id}': ({ self }) => ({ params: { user_id: self } }),
  'get /api/mystery/my-matches/me': () => ({}),
  'post /api/mystery/extend-match': ({ self, matchId }) => ({
    body: { user_id: self, match_id: matchId },
  }),
  'post /api/mystery/unmatch': ({ self, matchId }) => ({
    body: { user_id: self, match_id: matchId },
  }),
  'post /api/mystery/request-secret-chat': ({ self, matchId }) => ({
    body: { user_id: self, match_id: matchId },
  }),
  'post /api/mystery/accept-secret-chat/{match_id}': ({ matchId }) => ({
    params: { match_id: matchId },
  }),
  'post /api/mystery/send-message': ({ self, matchId }) => ({
    body: { user_id: self, match_id: matchId, client_id: 'matrix', body: 'hello' },
  }),
  'get /api/mystery/chat/{match_id}': ({ matchId }) => ({
    params: { match_id: matchId },
    query: { limit: 10 },
  }),
  'delete /api/mystery/chat/{match_id}/messages/{seq}': ({ matchId }) => ({
    params: { match_id: matchId, seq: 1 },
  }),
  'get /api/mystery/chat/online-status/{match_id}/{user_id}': ({ self, matchId }) => ({
    params: { match_id: matchId, user_id: self },
  }),
  'get /api/mystery/chat/online-status/{match_id}/me': ({ matchId }) => ({
    params: { match_id: matchId },
  }),
  'get /api/mystery/stats/{user_id}': ({ self }) => ({ params: { user_id: self } }),
  'get /api/mystery/stats/me': () => ({}),
  'get /api/mystery/matches/{match_id}/partner-photo': ({ matchId }) => ({
    params: { match_id: matchId },
  }),
  'post /api/mystery/block': ({ self, otherUser }) => ({
    body: { user_id: self, blocked_user_id: otherUser },
  }),
  'post /api/mystery/unblock': ({ self, otherUser }) => ({
    body: { user_id: self, blocked_user_id: otherUser },
  }),
  'post /api/mystery/report': ({ self, matchId }) => ({
    body: { user_id: self, match_id: matchId, reason: 'spam' },
  }),
  'post /api/users/me/push-subscriptions': () => ({
    body: {
      endpoint: 'https://push.example.com/matrix',
      keys: { p256dh: 'BMatrixKey', auth: 'matrixAuth' },
    },
  }),
  'delete /api/users/me/push-subscriptions': () => ({
    body: { endpoint: 'https://push.example.com/matrix' },
  }),
  'get /api/users/me/notification-settings': () => ({}),
  'put /api/users/me/notification-settings': () => ({
    body: {
      kinds: { match: true, message: true, unlock: true, expiring: true },
      previews: false,
      quiet_hours: null,
    },
  }),
  'get /api/v1/matching/profiles/scroll': () => ({ query: { limit: 5 } }),
  'get /api/v1/matching/profiles/batch': ({ otherUser }) => ({
    query: { profile_ids: String(otherUser) },
  }),
  // An admin route: its user_id names whom it acts on, never the caller.
  'put /api/admin/users/{user_id}/premium': ({ otherUser }) => ({
    params: { user_id: otherUser },
    body: { until: null },
  }),
  // The moderation desk: moderators and admins; a user_id names whom it acts on.
  'get /api/moderation/reports': () => ({ query: { limit: 5 } }),
  'post /api/moderation/reports/{report_id}/resolve': () => ({
    params: { report_id: 999_999_999 },
    body: { action: 'dismiss', reason: 'matrix' },
  }),
  'get /api/moderation/profiles': () => ({ query: { limit: 5 } }),
  'post /api/moderation/profiles/{user_id}/approve': ({ otherUser }) => ({
    params: { user_id: otherUser },
    body: { reason: 'matrix' },
  }),
  'post /api/moderation/profiles/{user_id}/reject': ({ otherUser }) => ({
    params: { user_id: otherUser },
    body: { reason: 'matrix' },
  }),
};

/** Routes anyone may call without a token. */
const PUBLIC_ROUTES = [
  'post /api/auth/dev-token',
  'post /api/webhooks/entitlements',
  // Whether push is on, and the VAPID public key: public by nature.
  'get /api/push/config',
];

const keyOf = (spec: AnyRouteSpec) => `${spec.method} ${spec.path}`;
const PARTS = ['params', 'query', 'body'] as const;
const takes = (spec: AnyRouteSpec, field: string) =>
  PARTS.filter((part) => spec[part] && field in spec[part]!.shape);

describe('the authorization matrix of every REST route', () => {
  let api: TestService;
  let routes: AnyRouteSpec[];
  let ann: TestUser;
  let bob: TestUser;
  let cid: TestUser;
  let match: MatchView;

  beforeAll(async () => {
    // With a webhook secret, so the signed webhook is mounted and listed too.
    api = await startTestService('authz_matrix', {
      ENTITLEMENTS_WEBHOOK_SECRET: 'a-webhook-secret-for-the-authorization-matrix',
    });
    routes = apiRoutes({ services: api.service.services, devTokens: true });
    const city = 'Matrix City';
    ann = await createUser(api.url, freshUserId(), 'Ann');
    bob = await createUser(api.url, freshUserId(), 'Bob');
    cid = await createUser(api.url, freshUserId(), 'Cid');
    await ann.rest.saveProfile({ display_name: 'Ann', city });
    await bob.rest.saveProfile({ display_name: 'Bob', city });
    match = await ann.rest.findMatch(ann.id, { city });
    expect(match.partner_id).toBe(bob.id);
  });
  afterAll(() => api?.stop());

  /** Sends the route with these inputs; JSON bodies only (an upload's body does not matter here). */
  async function send(spec: AnyRouteSpec, inputs: Inputs, token?: string) {
    const path = spec.path.replace(/\{(\w+)\}/g, (_, name: string) =>
      String(inputs.params?.[name]),
    );
    const query = new URLSearchParams(
      Object.entries(inputs.query ?? {}).map(([k, v]): [string, string] => [k, String(v)]),
    );
    const response = await fetch(`${api.url}${path}${query.size ? `?${query}` : ''}`, {
      method: spec.method.toUpperCase(),
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(inputs.body && { 'content-type': 'application/json' }),
      },
      ...(inputs.body && { body: JSON.stringify(inputs.body) }),
    });
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    return { status: response.status, code: json?.error?.code as string | undefined, body: json };
  }

  /** The inputs with `field` set to `value` in `part` and left out of the other parts. */
  function only(inputs: Inputs, field: string, part: (typeof PARTS)[number], value: number) {
    const copy: Inputs = {};
    for (const p of PARTS) {
      if (!inputs[p]) continue;
      const { [field]: _dropped, ...rest } = inputs[p];
      copy[p] = p === part ? { ...rest, [field]: value } : rest;
    }
    return copy;
  }

  it('when the route table is read, then every authenticated route has a fixture that its schemas accept, and every other route is known public', () => {
    const authenticated = routes.filter((spec) => spec.auth).map(keyOf);
    expect(authenticated.filter((key) => !FIXTURES[key])).toEqual([]);
    expect(Object.keys(FIXTURES).filter((key) => !authenticated.includes(key))).toEqual([]);
    expect(routes.filter((spec) => !spec.auth).map(keyOf)).toEqual(PUBLIC_ROUTES);
    const ids = { self: 1, matchId: 2, otherUser: 3 };
    for (const spec of routes.filter((s) => s.auth)) {
      const inputs = FIXTURES[keyOf(spec)]!(ids);
      for (const part of PARTS) {
        if (spec[part]) expect(() => spec[part]!.parse(inputs[part] ?? {})).not.toThrow();
        // A route's user_id and match_id must be filled in wherever it takes them.
        for (const field of ['user_id', 'match_id']) {
          if (spec[part] && field in spec[part]!.shape) {
            expect({ route: keyOf(spec), part, field, given: inputs[part]?.[field] }).toEqual(
              expect.objectContaining({ given: expect.any(Number) }),
            );
          }
        }
      }
    }
  });

  it('when an authenticated route is called without a token, then it is 401', async () => {
    const failures: string[] = [];
    for (const spec of routes.filter((s) => s.auth)) {
      const inputs = FIXTURES[keyOf(spec)]!({
        self: ann.id,
        matchId: match.id,
        otherUser: cid.id,
      });
      const { status, code } = await send(spec, inputs);
      if (status !== 401 || code !== 'UNAUTHENTICATED') failures.push(`${keyOf(spec)}: ${status}`);
    }
    expect(failures).toEqual([]);
  });

  it("when B names A's user_id, then every route taking a user_id answers 403", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const spec of routes.filter((s) => s.auth && !s.role)) {
      const inputs = FIXTURES[keyOf(spec)]!({ self: ann.id, matchId: match.id, otherUser: cid.id });
      for (const part of takes(spec, 'user_id')) {
        checked++;
        const { status, code } = await send(spec, only(inputs, 'user_id', part, ann.id), bob.token);
        if (status !== 403 || code !== 'FORBIDDEN') {
          failures.push(`${keyOf(spec)} (${part}): ${status} ${code}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it("when C names A and B's match, then every route taking a match_id answers 404 NOT_FOUND, as for a match that does not exist", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const spec of routes.filter((s) => s.auth && takes(s, 'match_id').length > 0)) {
      checked++;
      const fixture = FIXTURES[keyOf(spec)]!;
      const theirs = await send(
        spec,
        fixture({ self: cid.id, matchId: match.id, otherUser: ann.id }),
        cid.token,
      );
      const none = await send(
        spec,
        fixture({ self: cid.id, matchId: 987_654_321, otherUser: ann.id }),
        cid.token,
      );
      if (theirs.status !== 404 || theirs.code !== 'NOT_FOUND') {
        failures.push(`${keyOf(spec)}: ${theirs.status} ${JSON.stringify(theirs.body)}`);
      }
      // Indistinguishable from a match that does not exist: same status, code and message.
      if (JSON.stringify(theirs.body) !== JSON.stringify(none.body)) {
        failures.push(`${keyOf(spec)}: differs from a missing match`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(9);
    // And the match is untouched: still active, no message from C, not extended.
    const [stillThere] = (await ann.rest.myMatches(ann.id)).filter((m) => m.id === match.id);
    expect(stillThere).toMatchObject({ status: 'active', message_count: 0, extended_count: 0 });
  });

  it('when each role calls each route, then a route that needs a role refuses those below it (403) and lets the others through; any other route lets every role through', async () => {
    const failures: string[] = [];
    let guarded = 0;
    for (const role of roles) {
      const self = freshUserId();
      const { body } = await callJson<{ token: string }>(
        api.url,
        undefined,
        'POST',
        '/api/auth/dev-token',
        { user_id: self, role },
      );
      for (const spec of routes.filter((s) => s.auth)) {
        const inputs = FIXTURES[keyOf(spec)]!({ self, matchId: match.id, otherUser: cid.id });
        const { status, code } = await send(spec, inputs, body.token);
        const below = spec.role !== undefined && roles.indexOf(role) < roles.indexOf(spec.role);
        if (spec.role) guarded++;
        const ok = below
          ? status === 403 && code === 'FORBIDDEN'
          : status !== 401 && status !== 403 && status < 500;
        if (!ok) failures.push(`${keyOf(spec)} as ${role}: ${status} ${code}`);
      }
    }
    expect(failures).toEqual([]);
    expect(guarded).toBeGreaterThanOrEqual(roles.length);
  });
});
