import { UNREAD_COUNT_CAP } from '@mm/contract';
import { sql } from 'kysely';
import { Realtime } from '../src/realtime/realtime';
import { UnreadTotals } from '../src/messages/unread-totals';
import {
  insertMatch,
  newUser,
  openDomain,
  RecordingBroadcaster,
  type Domain,
} from './support/domain';

describe('unsend, delivery receipts, match previews and unread totals in the domain', () => {
  let domain: Domain;

  beforeAll(async () => {
    domain = await openDomain('chat_features', {
      rules: { messageRate: { points: 10_000, windowSeconds: 60 } },
    });
  });
  afterAll(async () => {
    await domain?.services.unread.idle();
    await domain?.close();
  });

  const services = () => domain.services;
  const pair = async () => {
    const a = await newUser(domain.database);
    const b = await newUser(domain.database);
    return { a, b, m: await insertMatch(domain.database.db, a, b) };
  };
  let sent = 0;
  const send = async (matchId: number, senderId: number, body: string) =>
    (await services().messages.send(senderId, { match_id: matchId, client_id: `c${sent++}`, body }))
      .message;
  const stored = async (matchId: number, seq: number) =>
    domain.database.db
      .selectFrom('messages')
      .select(['body', 'deleted_at'])
      .where('match_id', '=', matchId)
      .where('seq', '=', seq)
      .executeTakeFirstOrThrow();
  const matchRow = (matchId: number) =>
    domain.database.db
      .selectFrom('matches')
      .selectAll()
      .where('id', '=', matchId)
      .executeTakeFirstOrThrow();

  describe('unsend', () => {
    it('when the sender takes a message back, then its body is erased, its seq stays as a tombstone and no count goes down', async () => {
      const { a, b, m } = await pair();
      await send(m, a, 'first');
      await send(m, a, 'oops, wrong chat');
      await send(m, b, 'third');
      const before = await matchRow(m);
      domain.broadcaster.log.length = 0;

      const tombstone = await services().messages.unsend(a, { match_id: m, seq: 2 }, 'socket-a');

      expect(tombstone).toMatchObject({ seq: 2, sender_id: a, body: null, deleted: true });
      expect(await stored(m, 2)).toEqual({ body: null, deleted_at: expect.any(Date) });
      const after = await matchRow(m);
      expect(after).toMatchObject({
        message_count: before.message_count,
        a_message_count: before.a_message_count,
        b_message_count: before.b_message_count,
      });
      const history = await services().messages.history(b, m, { limit: 50 });
      expect(history.messages.map((msg) => [msg.seq, msg.body, msg.deleted])).toEqual([
        [1, 'first', false],
        [2, null, true],
        [3, 'third', false],
      ]);
      const synced = await services().sync.since(b, { since: { [m]: 1 }, limit: 200 });
      expect(synced.messages.map((msg) => [msg.seq, msg.deleted])).toEqual([
        [2, true],
        [3, false],
      ]);
      // One broadcast per user room (the sharded adapter's own channel per room): each room once.
      const deleted = domain.broadcaster.events('message:deleted');
      expect(deleted.map((e) => e.payload)).toEqual(
        deleted.map(() => ({ match_id: m, seq: 2, user_id: a })),
      );
      expect(deleted.flatMap((e) => e.rooms).sort()).toEqual([`user:${a}`, `user:${b}`].sort());
    });

    it('when the sender takes it back twice, then the second answers the same tombstone and tells no one', async () => {
      const { a, m } = await pair();
      await send(m, a, 'twice');
      await services().messages.unsend(a, { match_id: m, seq: 1 });
      domain.broadcaster.log.length = 0;
      await expect(services().messages.unsend(a, { match_id: m, seq: 1 })).resolves.toMatchObject({
        seq: 1,
        deleted: true,
      });
      expect(domain.broadcaster.events('message:deleted')).toEqual([]);
    });

    it('when someone else tries, then the partner is refused and an outsider is told it does not exist', async () => {
      const { a, b, m } = await pair();
      const outsider = await newUser(domain.database);
      await send(m, a, 'mine');
      await expect(services().messages.unsend(b, { match_id: m, seq: 1 })).rejects.toMatchObject({
        code: 'NOT_MESSAGE_SENDER',
      });
      await expect(
        services().messages.unsend(outsider, { match_id: m, seq: 1 }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(services().messages.unsend(a, { match_id: m, seq: 9 })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      expect((await stored(m, 1)).body).toBe('mine');
    });

    it('when the window has passed, then it is refused and the message stays', async () => {
      const { a, m } = await pair();
      await send(m, a, 'old news');
      await sql`UPDATE messages SET created_at = now() - interval '601 seconds' WHERE match_id = ${m}`.execute(
        domain.database.db,
      );
      await expect(services().messages.unsend(a, { match_id: m, seq: 1 })).rejects.toMatchObject({
        code: 'UNSEND_WINDOW_CLOSED',
        details: { window_seconds: 600 },
      });
      expect((await stored(m, 1)).body).toBe('old news');
    });

    it('when the match has ended meanwhile, then the sender may still take it back within the window', async () => {
      const { a, b, m } = await pair();
      await send(m, a, 'regret');
      await services().moderation.block(b, { blocked_user_id: a });
      await expect(services().messages.unsend(a, { match_id: m, seq: 1 })).resolves.toMatchObject({
        deleted: true,
      });
    });

    it('when a report was filed before the unsend, then it keeps its evidence', async () => {
      const { a, b, m } = await pair();
      await send(m, a, 'something nasty');
      const report = await services().moderation.report(b, {
        user_id: b,
        match_id: m,
        reason: 'harassment',
      });
      await services().messages.unsend(a, { match_id: m, seq: 1 });
      const row = await domain.database.db
        .selectFrom('reports')
        .select('evidence')
        .where('id', '=', report.id)
        .executeTakeFirstOrThrow();
      expect(row.evidence).toEqual([expect.objectContaining({ seq: 1, body: 'something nasty' })]);
    });
  });

  describe('delivery receipts', () => {
    it('when deliveries arrive out of order, then the watermark only moves forward and the partner hears each move', async () => {
      const { a, b, m } = await pair();
      for (const body of ['1', '2', '3']) await send(m, a, body);
      domain.broadcaster.log.length = 0;

      expect(await services().receipts.markDelivered(b, { match_id: m, seq: 2 }, 's')).toBe(2);
      expect(await services().receipts.markDelivered(b, { match_id: m, seq: 1 })).toBe(2);
      expect(await services().receipts.markDelivered(b, { match_id: m, seq: 99 })).toBe(3);

      // Each move once per user room (a broadcast per room), in order: 2, then 3.
      const moves = domain.broadcaster.events('message:delivered');
      const seqOf = (e: (typeof moves)[number]) => (e.payload as { seq: number }).seq;
      const seqs = moves.map(seqOf);
      expect([...new Set(seqs)]).toEqual([2, 3]);
      expect([...seqs].sort()).toEqual(seqs);
      for (const seq of [2, 3]) {
        const sent = moves.filter((e) => seqOf(e) === seq);
        expect(sent.map((e) => e.payload)).toEqual(
          sent.map(() => ({ match_id: m, user_id: b, seq })),
        );
        expect(sent.flatMap((e) => e.rooms).sort()).toEqual([`user:${a}`, `user:${b}`].sort());
      }
      const [viewOfA] = (await services().matches.listMatches(a)).filter((v) => v.id === m);
      expect(viewOfA).toMatchObject({ partner_last_delivered_seq: 3, partner_last_read_seq: 0 });
      const [viewOfB] = (await services().matches.listMatches(b)).filter((v) => v.id === m);
      expect(viewOfB).toMatchObject({ last_delivered_seq: 3, last_read_seq: 0 });
    });

    it('when the match ended by block, then the partner no longer hears of nor sees the watermarks', async () => {
      const { a, b, m } = await pair();
      await send(m, a, 'hi');
      await services().moderation.block(a, { blocked_user_id: b });
      domain.broadcaster.log.length = 0;
      await services().receipts.markDelivered(b, { match_id: m, seq: 1 });
      expect(domain.broadcaster.events('message:delivered')).toEqual([
        expect.objectContaining({ rooms: [`user:${b}`] }),
      ]);
      const [viewOfA] = (await services().matches.listMatches(a)).filter((v) => v.id === m);
      expect(viewOfA).not.toHaveProperty('partner_last_delivered_seq');
    });
  });

  describe('the match list', () => {
    it('when a match has messages, then my-matches shows the last one masked as the chat is, or its tombstone', async () => {
      const { a, b, m } = await pair();
      const empty = await pair();
      await send(m, a, 'hello');
      await send(m, b, 'call me at +1 555 123 4567');
      let [view] = (await services().matches.listMatches(a)).filter((v) => v.id === m);
      expect(view!.last_message).toMatchObject({
        seq: 2,
        sender_id: b,
        body: 'call me at [contact hidden]',
        deleted: false,
      });
      await services().messages.unsend(b, { match_id: m, seq: 2 });
      [view] = (await services().matches.listMatches(a)).filter((v) => v.id === m);
      // The tombstone is no longer unread: a's own 'hello' never was.
      expect(view).toMatchObject({
        unread_count: 0,
        last_message: { seq: 2, body: null, deleted: true },
      });
      const [none] = (await services().matches.listMatches(empty.a)).filter(
        (v) => v.id === empty.m,
      );
      expect(none!.last_message).toBeNull();
    });

    it('when the last message is a secret one that expired, then nothing of it shows: the one before does', async () => {
      const { a, b, m } = await pair();
      await send(m, a, 'plain');
      await send(m, b, 'secret words');
      await sql`UPDATE messages SET is_secret = true, expires_at = now() - interval '1 second'
                WHERE match_id = ${m} AND seq = 2`.execute(domain.database.db);
      const [view] = (await services().matches.listMatches(a)).filter((v) => v.id === m);
      expect(view).toMatchObject({ unread_count: 0, last_message: { seq: 1, body: 'plain' } });
    });
  });

  describe('unread totals', () => {
    it('when the partner writes, the user reads, and the partner takes one back, then the user is told each new total', async () => {
      const { a, b, m } = await pair();
      const other = await pair();
      await send(other.m, other.b, 'elsewhere'); // not a's match: never counted for a
      expect((await services().connecting.of(a)).unreadTotal).toBe(0);
      await services().unread.idle();
      domain.broadcaster.log.length = 0;
      const totalsOf = (user: number) =>
        domain.broadcaster
          .events('unread:total')
          .filter((e) => e.rooms.includes(`user:${user}`))
          .map((e) => e.payload);

      await send(m, b, 'one');
      await send(m, b, 'two');
      await send(m, a, 'mine'); // the user's own: tells b, never a
      await services().unread.idle();
      expect(totalsOf(a).at(-1)).toEqual({ total: 2 });

      await services().receipts.markRead(a, { match_id: m, seq: 1 });
      await services().unread.idle();
      expect(totalsOf(a).at(-1)).toEqual({ total: 1 });

      await services().messages.unsend(b, { match_id: m, seq: 2 });
      await services().unread.idle();
      expect(totalsOf(a).at(-1)).toEqual({ total: 0 });
      expect((await services().connecting.of(a)).unreadTotal).toBe(0);
      expect(totalsOf(b).at(-1)).toEqual({ total: 1 }); // a's 'mine'
    });

    it('when a match holds more unread messages than the cap, then its count and the total stop at the cap', async () => {
      const { a, b, m } = await pair();
      await sql`INSERT INTO messages (match_id, seq, sender_id, client_id, body)
        SELECT ${m}, g, ${b}, 'bulk-' || g, 'hi' FROM generate_series(1, ${UNREAD_COUNT_CAP + 50}) g`.execute(
        domain.database.db,
      );
      await sql`UPDATE matches SET message_count = ${UNREAD_COUNT_CAP + 50} WHERE id = ${m}`.execute(
        domain.database.db,
      );
      expect((await services().connecting.of(a)).unreadTotal).toBe(UNREAD_COUNT_CAP);
      const [view] = await services().matches.listMatches(a);
      expect(view).toMatchObject({ id: m, unread_count: UNREAD_COUNT_CAP });
      // Below the cap the count is exact again.
      await services().receipts.markRead(a, { match_id: m, seq: 140 });
      expect((await services().connecting.of(a)).unreadTotal).toBe(10);
    });

    it('when totals keep changing, then counts after the first wait for the interval instead of running every turn', async () => {
      const { a, b, m } = await pair();
      await send(m, b, 'one');
      const recorder = new RecordingBroadcaster();
      const totals = new UnreadTotals(
        domain.database.db,
        new Realtime(recorder),
        undefined,
        60_000,
      );
      const told = () => recorder.events('unread:total').length;

      totals.changed([a]); // the first change after a quiet spell: counted on the next turn
      await totals.idle();
      expect(told()).toBe(1);
      for (let turn = 0; turn < 5; turn++) {
        totals.messageFrom(m, b);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Counted every turn, five more totals would have gone out by now; they wait for the interval.
      expect(told()).toBe(1);
    });
  });
});
