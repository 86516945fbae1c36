import { RestClient, sendMessage, type ChatSocket } from '@mm/client';
import { TokenService } from '@mm/core';
import { insertActiveMatch, orderedPair, upsertUserProfile, type DatabaseHandle } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';
import { connect, freshUserId } from '@mm/test-support/chat';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { JWT_SECRET, scaledEnv } from '@mm/test-support/realtime';

/**
 * The per-user message limit is kept in Redis, so it holds over every socket on every pod. Two
 * gateway processes with a limit of 5 messages a minute; users and the match are made in the
 * database directly (no API process needed).
 */
describe('the per-user message rate limit across two gateways', () => {
  let schema: TestSchema;
  let database: DatabaseHandle;
  let gateways: RunningProcess[];
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('rate_limit');
    database = await openTestDatabase(schema, 2);
    const env = scaledEnv(schema, 'rate', {
      MESSAGE_RATE_LIMIT: '5',
      MESSAGE_RATE_WINDOW_SECONDS: '60',
    });
    gateways = await Promise.all([startApp('gateway', env), startApp('gateway', env)]);
  }, 60_000);

  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    const codes = await Promise.all((gateways ?? []).map((g) => g.stop()));
    await database?.close();
    await schema?.drop();
    expect(codes).toEqual([0, 0]);
  });

  it('when a user sends past the limit over two pods, then the next send is refused with retry_after and nothing more is stored', async () => {
    const [ann, bob] = [freshUserId(), freshUserId()];
    await upsertUserProfile(database.db, ann, { display_name: 'Ann' });
    await upsertUserProfile(database.db, bob, { display_name: 'Bob' });
    const match = await insertActiveMatch(database.db, {
      ...orderedPair(ann, bob),
      created_by: ann,
      expires_at: new Date(Date.now() + 3_600_000),
    });
    const token = new TokenService(JWT_SECRET).sign(ann);
    const user = { id: ann, token, rest: new RestClient(gateways[0]!.url, () => token) };
    const onA = await connect(gateways[0]!.url, user);
    const onB = await connect(gateways[1]!.url, user);
    sockets.push(onA, onB);

    for (let i = 0; i < 5; i++) {
      await sendMessage(i % 2 ? onB : onA, { match_id: match!.id, client_id: `c${i}`, body: 'hi' });
    }
    const refused = await Promise.all(
      [onA, onB].map((socket, i) =>
        socket.emitWithAck('message:send', {
          match_id: match!.id,
          client_id: `over${i}`,
          body: 'x',
        }),
      ),
    );

    for (const ack of refused) {
      expect(ack).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED' } });
      const retryAfter = !ack.ok && ack.error.details?.retry_after;
      expect(typeof retryAfter).toBe('number');
      expect(retryAfter).toBeGreaterThan(0);
    }
    const stored = await database.db
      .selectFrom('messages')
      .select('client_id')
      .where('match_id', '=', match!.id)
      .orderBy('seq')
      .execute();
    expect(stored.map((m) => m.client_id)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
  });
});
