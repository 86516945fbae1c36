import { connectSocket, type ChatSocket } from '@mm/client';
import type { DatabaseHandle } from '@mm/db';
import { openTestDatabase } from '@mm/db/testing';
import {
  connect,
  createUser,
  freshUserId,
  moderatorToken,
  nextEvent,
  type TestUser,
} from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';
import { sql } from 'kysely';

const REPORT_RATE_LIMIT = 4;
const inADay = () => new Date(Date.now() + 24 * 3600_000).toISOString();

/**
 * The moderation desk on the embedded service (real API, gateway, sockets and Postgres): the
 * report queue with its evidence, folded repeats, the report rate limit, and what each resolution
 * does to the reported user, their sockets and their partners; every action in an append-only
 * audit table.
 */
describe('the moderation desk', () => {
  let api: TestService;
  let database: DatabaseHandle;
  let moderator: string;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    api = await startTestService('moderation_desk', {
      REPORT_RATE_LIMIT: String(REPORT_RATE_LIMIT),
    });
    database = await openTestDatabase(api.schema, 2);
    moderator = await moderatorToken(api.url);
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await database?.close();
    await api?.stop();
  });

  const desk = (method: string, path: string, body?: unknown) =>
    callJson(api.url, moderator, method, path, body);

  let cityNo = 0;
  /** Two users in a city of their own, matched, each with a socket. */
  async function matchedPair() {
    const city = `Desk City ${++cityNo}`;
    const [ann, bob] = await Promise.all([
      createUser(api.url, freshUserId(), 'Ann'),
      createUser(api.url, freshUserId(), 'Bob'),
    ]);
    await Promise.all([ann, bob].map((u) => u.rest.saveProfile({ display_name: 'x', city })));
    const match = await ann.rest.findMatch({ city });
    const [annSocket, bobSocket] = await Promise.all([
      connect(api.url, ann),
      connect(api.url, bob),
    ]);
    sockets.push(annSocket, bobSocket);
    return { ann, bob, match, city, annSocket, bobSocket };
  }

  const report = (user: TestUser, matchId: number, reason = 'harassment') =>
    callJson(api.url, user.token, 'POST', '/api/mystery/report', { match_id: matchId, reason });

  it('when a user reports the same partner in the same match twice, then the desk holds one open report with its evidence, counted twice', async () => {
    const { ann, bob, match } = await matchedPair();
    await ann.rest.sendMessage({
      match_id: match.id,
      body: 'hello there',
      client_id: 'desk-evidence-1',
    });
    const first = await report(ann, match.id);
    const second = await report(ann, match.id);
    expect(first.status).toBe(201);
    expect(second.body.report).toMatchObject({ id: first.body.report.id, repeat_count: 2 });

    const queue = await desk('GET', `/api/moderation/reports?reported_user_id=${bob.id}`);
    expect(queue.status).toBe(200);
    expect(queue.body.reports).toHaveLength(1);
    expect(queue.body.reports[0]).toMatchObject({
      id: first.body.report.id,
      reporter_id: ann.id,
      reported_user_id: bob.id,
      status: 'open',
      repeat_count: 2,
      evidence: [expect.objectContaining({ sender_id: ann.id, body: 'hello there' })],
    });
  });

  it('when the queue is paged and filtered, then each report comes once, in filing order, inside the filters', async () => {
    const pairs = await Promise.all([matchedPair(), matchedPair(), matchedPair()]);
    const ids: number[] = [];
    for (const { ann, match } of pairs)
      ids.push((await report(ann, match.id, 'spam')).body.report.id);
    const seen: number[] = [];
    let after: number | null = ids[0]! - 1;
    while (after !== null) {
      const page = await desk('GET', `/api/moderation/reports?reason=spam&limit=2&after=${after}`);
      expect(page.body.reports.length).toBeLessThanOrEqual(2);
      for (const r of page.body.reports) expect(r.reason).toBe('spam');
      seen.push(...page.body.reports.map((r: { id: number }) => r.id));
      after = page.body.next_after;
    }
    expect(seen).toEqual(expect.arrayContaining(ids));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const bad = await desk('GET', '/api/moderation/reports?status=nonsense');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
  });

  it('when a moderator suspends the reported user, then their sockets close, their partner sees the match end, REST and the handshake refuse them with the end, and find-match skips them', async () => {
    const { ann, bob, match, city, annSocket, bobSocket } = await matchedPair();
    const filed = await report(ann, match.id);
    const until = inADay();
    const ended = nextEvent(annSocket, 'match:ended');
    const closed = new Promise((resolve) => bobSocket.once('disconnect', resolve));

    const resolved = await desk('POST', `/api/moderation/reports/${filed.body.report.id}/resolve`, {
      action: 'suspend',
      reason: 'threats in chat',
      until,
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body.report).toMatchObject({ status: 'resolved', resolution: 'suspend' });
    expect(await ended).toEqual({ match_id: match.id, reason: 'account_restricted' });
    expect(await closed).toBe('io server disconnect');

    const refused = await callJson(api.url, bob.token, 'GET', '/api/users/me');
    expect(refused).toMatchObject({
      status: 403,
      body: { error: { code: 'ACCOUNT_SUSPENDED', details: { until } } },
    });
    const handshake = await new Promise<Error & { data?: { code?: string } }>((resolve) => {
      const socket = connectSocket({ url: api.url, token: bob.token });
      sockets.push(socket);
      socket.once('connect_error', resolve);
    });
    expect(handshake.data?.code).toBe('ACCOUNT_SUSPENDED');

    // Ann may search again in their city: Bob, the only other one there, is never offered.
    const again = await callJson(api.url, ann.token, 'POST', '/api/mystery/find-match', { city });
    expect(again.body.error?.code).toBe('NO_CANDIDATES');

    const twice = await desk('POST', `/api/moderation/reports/${filed.body.report.id}/resolve`, {
      action: 'dismiss',
      reason: 'second look',
    });
    expect(twice).toMatchObject({
      status: 409,
      body: { error: { code: 'REPORT_NOT_OPEN', details: { status: 'resolved' } } },
    });
  });

  it('when a moderator bans the reported user, then they are refused with ACCOUNT_BANNED; a dismissed report changes nothing for them', async () => {
    const one = await matchedPair();
    const dismissed = await report(one.ann, one.match.id);
    await desk('POST', `/api/moderation/reports/${dismissed.body.report.id}/resolve`, {
      action: 'dismiss',
      reason: 'banter',
    });
    expect((await callJson(api.url, one.bob.token, 'GET', '/api/users/me')).status).toBe(200);

    const two = await matchedPair();
    const banned = await report(two.ann, two.match.id);
    const answer = await desk('POST', `/api/moderation/reports/${banned.body.report.id}/resolve`, {
      action: 'ban',
      reason: 'scam',
    });
    expect(answer.body.report).toMatchObject({ status: 'resolved', resolution: 'ban' });
    expect(await callJson(api.url, two.bob.token, 'GET', '/api/users/me')).toMatchObject({
      status: 403,
      body: { error: { code: 'ACCOUNT_BANNED' } },
    });
  });

  it('when a suspension has no future end, or a dismissal has one, then it is refused', async () => {
    const { ann, match } = await matchedPair();
    const filed = await report(ann, match.id);
    const path = `/api/moderation/reports/${filed.body.report.id}/resolve`;
    const past = await desk('POST', path, {
      action: 'suspend',
      reason: 'x',
      until: '2020-01-01T00:00:00Z',
    });
    const extra = await desk('POST', path, { action: 'dismiss', reason: 'x', until: inADay() });
    for (const answer of [past, extra]) {
      expect(answer.body.error).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { fields: [expect.objectContaining({ field: 'until' })] },
      });
    }
    expect(
      (
        await desk('POST', '/api/moderation/reports/999999999/resolve', {
          action: 'warn',
          reason: 'x',
        })
      ).status,
    ).toBe(404);
  });

  it('when every action is recorded, then the audit table refuses UPDATE, DELETE and TRUNCATE', async () => {
    const { ann, bob, match } = await matchedPair();
    const filed = await report(ann, match.id);
    await desk('POST', `/api/moderation/reports/${filed.body.report.id}/resolve`, {
      action: 'warn',
      reason: 'first warning',
    });
    const rows = await database.db
      .selectFrom('moderation_actions')
      .selectAll()
      .where('target_user_id', '=', bob.id)
      .execute();
    expect(rows).toEqual([
      expect.objectContaining({
        action: 'warn',
        reason: 'first warning',
        report_id: filed.body.report.id,
        created_at: expect.any(Date),
      }),
    ]);
    const id = rows[0]!.id;
    await expect(
      database.db
        .updateTable('moderation_actions')
        .set({ reason: 'rewritten' })
        .where('id', '=', id)
        .execute(),
    ).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(
      database.db.deleteFrom('moderation_actions').where('id', '=', id).execute(),
    ).rejects.toThrow(/append-only: DELETE refused/);
    await expect(sql`TRUNCATE moderation_actions`.execute(database.db)).rejects.toThrow(
      /append-only: TRUNCATE refused/,
    );
    const after = await database.db
      .selectFrom('moderation_actions')
      .selectAll()
      .where('id', '=', id)
      .execute();
    expect(after).toEqual(rows);
  });

  it('when a user files more reports than the limit allows, then the next one is refused with RATE_LIMITED', async () => {
    const { ann, match } = await matchedPair();
    for (let i = 0; i < REPORT_RATE_LIMIT; i++)
      expect((await report(ann, match.id)).status).toBe(201);
    const refused = await report(ann, match.id);
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
  });

  it('when a plain user calls the desk, then it is 403 FORBIDDEN', async () => {
    const { ann } = await matchedPair();
    const answer = await callJson(api.url, ann.token, 'GET', '/api/moderation/reports');
    expect(answer).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
  });
});
