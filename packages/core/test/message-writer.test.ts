import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';
import { AppError } from '../src/errors';
import { MessageWriter, type AppendRequest } from '../src/messages/message-writer';
import { insertMatch } from './support/domain';

/** Two writers on two pools stand for two gateway pods writing to one Postgres. */
describe('MessageWriter (batched appends)', () => {
  let schema: TestSchema;
  let podA: DatabaseHandle;
  let podB: DatabaseHandle;
  let writerA: MessageWriter;
  let writerB: MessageWriter;
  const options = { maxBatch: 64, lanes: 3, secretTtlMs: 60_000 };

  beforeAll(async () => {
    schema = await createTestSchema('message_writer');
    [podA, podB] = await Promise.all([openTestDatabase(schema), openTestDatabase(schema)]);
    writerA = new MessageWriter(podA.db, options);
    writerB = new MessageWriter(podB.db, options);
    await sql`INSERT INTO users (id, display_name) SELECT g, 'u' || g FROM generate_series(1, 20) g`.execute(
      podA.db,
    );
  });

  afterAll(async () => {
    await Promise.all([podA?.close(), podB?.close()]);
    await schema?.drop();
  });

  const newMatch = (a: number, b: number, fields: Record<string, unknown> = {}) =>
    insertMatch(podA.db, a, b, fields);

  const send = (
    writer: MessageWriter,
    r: Partial<AppendRequest> & { matchId: number; clientId: string },
  ) => writer.append({ senderId: 1, body: `body ${r.clientId}`, ...r });

  it('when two pods send to the same matches at once, then every match has gapless seqs in one sequence', async () => {
    const matches = [await newMatch(1, 2), await newMatch(1, 3), await newMatch(1, 4)];
    const sends = Array.from({ length: 300 }, (_, i) =>
      send(i % 2 ? writerA : writerB, { matchId: matches[i % 3]!, clientId: `c${i}` }),
    );
    const results = await Promise.all(sends);

    expect(results.every((r) => r.created)).toBe(true);
    for (const matchId of matches) {
      const seqs = results.filter((r) => r.message.match_id === matchId).map((r) => r.message.seq);
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      const match = await podA.db
        .selectFrom('matches')
        .select('message_count')
        .where('id', '=', matchId)
        .executeTakeFirstOrThrow();
      expect(match.message_count).toBe(100);
    }
  });

  it('when one pod sends to many matches through several lanes, then each match keeps the order of its sends', async () => {
    const matches = await Promise.all([15, 16, 17, 18, 19].map((b) => newMatch(1, b)));
    const sends = Array.from({ length: 250 }, (_, i) =>
      send(writerA, { matchId: matches[i % matches.length]!, clientId: `order-${i}` }),
    );
    const results = await Promise.all(sends);
    for (const matchId of matches) {
      const inSendOrder = results
        .filter((r) => r.message.match_id === matchId)
        .map((r) => r.message.seq);
      expect(inSendOrder).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    }
  });

  it('when the same client_id races on two pods and within one batch, then it is stored once and all get the original', async () => {
    const matchId = await newMatch(1, 5);
    const results = await Promise.all([
      send(writerA, { matchId, clientId: 'dup' }),
      send(writerA, { matchId, clientId: 'dup' }),
      send(writerB, { matchId, clientId: 'dup' }),
      send(writerB, { matchId, clientId: 'other' }),
    ]);

    const dups = results.slice(0, 3);
    expect(new Set(dups.map((r) => r.message.id)).size).toBe(1);
    expect(dups.filter((r) => r.created)).toHaveLength(1);
    const stored = await podA.db
      .selectFrom('messages')
      .select('seq')
      .where('match_id', '=', matchId)
      .orderBy('seq')
      .execute();
    expect(stored.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('when one send in a batch is refused, then the others in the same batch are stored', async () => {
    const live = await newMatch(1, 6);
    const expired = await newMatch(1, 7, { expires_at: new Date(Date.now() - 1000) });
    const ended = await newMatch(1, 8, { status: 'unmatched' });

    const [ok, late, over, stranger, missing] = await Promise.allSettled([
      send(writerA, { matchId: live, clientId: 'fine' }),
      send(writerA, { matchId: expired, clientId: 'late' }),
      send(writerA, { matchId: ended, clientId: 'over' }),
      send(writerA, { matchId: live, clientId: 'eve', senderId: 9 }),
      send(writerA, { matchId: 999_999, clientId: 'nowhere' }),
    ]);

    expect(ok).toMatchObject({
      status: 'fulfilled',
      value: { created: true, message: { seq: 1 } },
    });
    expect(late).toMatchObject({ status: 'rejected', reason: { code: 'MATCH_NOT_ACTIVE' } });
    expect(over).toMatchObject({ status: 'rejected', reason: { code: 'MATCH_NOT_ACTIVE' } });
    expect(stranger).toMatchObject({ status: 'rejected', reason: { code: 'NOT_FOUND' } });
    expect(missing).toMatchObject({ status: 'rejected', reason: expect.any(AppError) });
    const count = await podA.db
      .selectFrom('messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('match_id', 'in', [expired, ended])
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('when one message in a batch holds what PostgreSQL cannot store, then only it is refused and everyone else in the batch is stored and acked', async () => {
    // One lane: every send below goes into the same batch (one statement) unless split.
    const writer = new MessageWriter(podA.db, { ...options, lanes: 1 });
    const [annBob, cidDee, eveFay] = [
      await newMatch(11, 12),
      await newMatch(13, 14),
      await newMatch(1, 20),
    ];
    // Straight into the writer, past the edge that refuses a NUL.
    const results = await Promise.allSettled([
      send(writer, { matchId: annBob, senderId: 11, clientId: 'a1' }),
      send(writer, { matchId: cidDee, senderId: 13, clientId: 'c1' }),
      send(writer, { matchId: eveFay, senderId: 1, clientId: 'bad', body: 'nul \u0000 here' }),
      send(writer, { matchId: annBob, senderId: 12, clientId: 'b1' }),
      send(writer, { matchId: eveFay, senderId: 1, clientId: 'bad', body: 'nul \u0000 here' }),
      send(writer, { matchId: cidDee, senderId: 14, clientId: 'd1' }),
      send(writer, { matchId: annBob, senderId: 11, clientId: 'a2' }),
      send(writer, { matchId: eveFay, senderId: 20, clientId: 'f1' }),
      send(writer, { matchId: annBob, senderId: 11, clientId: 'a1' }),
    ]);

    const ok = (i: number) =>
      results[i] as PromiseFulfilledResult<{ created: boolean; message: { seq: number } }>;
    for (const i of [0, 1, 3, 5, 6, 7, 8]) expect(results[i]!.status).toBe('fulfilled');
    for (const i of [2, 4]) {
      expect(results[i]).toMatchObject({
        status: 'rejected',
        reason: { code: 'VALIDATION_FAILED', status: 400 },
      });
    }
    // Each match keeps its send order and gapless seqs; the repeat of a1 gets the original.
    expect([0, 3, 6].map((i) => ok(i).value.message.seq)).toEqual([1, 2, 3]);
    expect([1, 5].map((i) => ok(i).value.message.seq)).toEqual([1, 2]);
    expect(ok(7).value.message.seq).toBe(1);
    expect(ok(8).value).toMatchObject({ created: false, message: { seq: 1 } });
    const stored = await podA.db
      .selectFrom('messages')
      .select(['match_id', 'client_id'])
      .where('match_id', 'in', [annBob, cidDee, eveFay])
      .orderBy('match_id')
      .orderBy('seq')
      .execute();
    expect(stored.map((m) => m.client_id)).toEqual(['a1', 'b1', 'a2', 'c1', 'd1', 'f1']);
  });

  it('when a batch holds both sides of two matches and a resend, then each message comes back with its match as it stood right after it', async () => {
    // One lane: one batch, one statement.
    const writer = new MessageWriter(podA.db, { ...options, lanes: 1 });
    const [first, second] = [await newMatch(9, 10), await newMatch(16, 17)];
    await send(writer, { matchId: first, senderId: 9, clientId: 'early' });
    const results = await Promise.all([
      send(writer, { matchId: first, senderId: 9, clientId: 'a1' }),
      send(writer, { matchId: second, senderId: 17, clientId: 'b1' }),
      send(writer, { matchId: first, senderId: 10, clientId: 'b1' }),
      send(writer, { matchId: first, senderId: 9, clientId: 'early' }),
      send(writer, { matchId: first, senderId: 10, clientId: 'b2' }),
    ]);

    // [match, total, user_a's, user_b's, the match's last new message of the batch]
    expect(
      results.map(({ match: m }) => [
        m.id,
        m.message_count,
        m.a_message_count,
        m.b_message_count,
        m.latest,
      ]),
    ).toEqual([
      [first, 2, 2, 0, false],
      [second, 1, 0, 1, true],
      [first, 3, 2, 1, false],
      [first, 3, 2, 1, false], // the resend: the match where it stands in the batch
      [first, 4, 2, 2, true],
    ]);
    expect(results.map((r) => r.match.status)).toEqual(Array(5).fill('active'));
    expect(results.map((r) => r.match.unlocked_level)).toEqual(Array(5).fill(0));
    const stored = await podA.db
      .selectFrom('matches')
      .select(['id', 'message_count', 'a_message_count', 'b_message_count'])
      .where('id', 'in', [first, second])
      .orderBy('id')
      .execute();
    expect(stored).toEqual([
      { id: first, message_count: 4, a_message_count: 2, b_message_count: 2 },
      { id: second, message_count: 1, a_message_count: 0, b_message_count: 1 },
    ]);
  });

  it('when the database cannot be reached, then the whole batch is rejected as it was and nothing is split', async () => {
    // Nothing listens on port 1: every connection is refused.
    const nowhere = await openDatabase({
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:1/test',
      poolSize: 1,
    });
    const writer = new MessageWriter(nowhere.db, { ...options, lanes: 1 });
    const matchId = await newMatch(2, 3);
    const results = await Promise.allSettled([
      send(writer, { matchId, senderId: 2, clientId: 'x1' }),
      send(writer, { matchId, senderId: 2, clientId: 'x2' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const r of results) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ECONNREFUSED' });
    }
    await nowhere.close();
  });

  it('when a secret chat is active, then new messages are secret and expire after the TTL', async () => {
    const matchId = await newMatch(1, 10, { secret_chat: 'active' });
    const before = Date.now();
    const { message } = await send(writerB, { matchId, clientId: 's1' });

    expect(message.is_secret).toBe(true);
    expect(message.expires_at!.getTime()).toBeGreaterThanOrEqual(before + options.secretTtlMs);
  });

  it('when a lane wrote within its interval, then the sends meanwhile wait for it to pass and go in one statement', async () => {
    const paced = new MessageWriter(podA.db, { ...options, lanes: 1, minIntervalMs: 1_000 });
    const matchId = await newMatch(18, 19);
    const first = await send(paced, { matchId, senderId: 18, clientId: 'paced-1' });
    // The lane's last call started moments ago: the next waits out the rest of its second, so a
    // send made meanwhile joins it.
    const second = send(paced, { matchId, senderId: 18, clientId: 'paced-2' });
    await sleep(50);
    const third = send(paced, { matchId, senderId: 19, clientId: 'paced-3' });
    const [b, c] = await Promise.all([second, third]);

    // created_at is the transaction's start: one statement stored both, another the first.
    expect(b.message.created_at).toEqual(c.message.created_at);
    expect(first.message.created_at).not.toEqual(b.message.created_at);
    expect([first, b, c].map((r) => r.message.seq)).toEqual([1, 2, 3]);
  });
});
