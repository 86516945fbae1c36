import { sql } from 'kysely';
import type { MatchView } from '@mm/contract';
import { newUser, openDomain, setExpiry, type Domain } from './support/domain';

const HOUR = 3_600_000;
/** The user rooms of a pair, as the domain addresses them: smaller id first. */
const pairRooms = (x: number, y: number) => [`user:${Math.min(x, y)}`, `user:${Math.max(x, y)}`];
/** An event to both users of a pair: one broadcast per user room, smaller id first. */
const toEachOf = (x: number, y: number, event: string, payload: unknown) =>
  pairRooms(x, y).map((room) => ({ rooms: [room], kind: 'emit', event, payload }));

describe('match lifecycle', () => {
  let domain: Domain;

  beforeAll(async () => {
    domain = await openDomain('match_lifecycle');
  });
  afterAll(() => domain?.close());

  let cityNo = 0;
  /** Two users matched with each other (the first created it); fields of the first override. */
  async function matchedPair(
    fields: Parameters<typeof newUser>[1] = {},
  ): Promise<{ ann: number; bob: number; match: MatchView }> {
    const city = `Lifecycle ${++cityNo}`;
    const ann = await newUser(domain.database, { city, ...fields });
    const bob = await newUser(domain.database, { city });
    const match = await domain.services.matches.findMatch(ann, { user_id: ann, city });
    expect(match.partner_id).toBe(bob);
    return { ann, bob, match };
  }
  const send = (matchId: number, senderId: number, clientId: string, body = clientId) =>
    domain.services.messages.send(senderId, { match_id: matchId, client_id: clientId, body });
  const storedMatch = (id: number) =>
    domain.database.db
      .selectFrom('matches')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  describe('expiry and extension', () => {
    it('when a match is created, then it expires 48 hours later', async () => {
      const { match } = await matchedPair();
      const lifetime = Date.parse(match.expires_at) - Date.parse(match.created_at);
      expect(lifetime).toBe(48 * HOUR);
    });

    it('when a free user extends twice at once on two pods, then exactly one extension of 24 hours succeeds', async () => {
      const { ann, match } = await matchedPair();
      const other = await domain.pod();
      try {
        const results = await Promise.allSettled([
          domain.services.matches.extend(ann, match.id),
          other.services.matches.extend(ann, match.id),
          domain.services.matches.extend(ann, match.id),
          other.services.matches.extend(ann, match.id),
        ]);
        const ok = results.filter((r) => r.status === 'fulfilled');
        expect(ok).toHaveLength(1);
        expect(
          results
            .filter((r) => r.status === 'rejected')
            .map((r) => (r as PromiseRejectedResult).reason.code),
        ).toEqual([
          'EXTENSION_LIMIT_REACHED',
          'EXTENSION_LIMIT_REACHED',
          'EXTENSION_LIMIT_REACHED',
        ]);
        const stored = await storedMatch(match.id);
        expect(stored.extended_count).toBe(1);
        expect(stored.expires_at.getTime()).toBe(Date.parse(match.expires_at) + 24 * HOUR);
        expect(domain.broadcaster.events('match:extended')).toContainEqual(
          expect.objectContaining({
            payload: {
              match_id: match.id,
              expires_at: stored.expires_at.toISOString(),
              extended_count: 1,
            },
          }),
        );
      } finally {
        await other.close();
      }
    });

    it('when a premium user extends concurrently, then every extension counts', async () => {
      const { ann, match } = await matchedPair({ is_premium: true });
      await Promise.all(
        Array.from({ length: 5 }, () => domain.services.matches.extend(ann, match.id)),
      );
      const stored = await storedMatch(match.id);
      expect(stored.extended_count).toBe(5);
      expect(stored.expires_at.getTime()).toBe(Date.parse(match.expires_at) + 5 * 24 * HOUR);
    });

    it('when a premium membership has run out, then the user extends like a free user', async () => {
      const { ann, match } = await matchedPair({
        is_premium: true,
        premium_until: new Date(Date.now() - 1000),
      });
      await domain.services.matches.extend(ann, match.id);
      await expect(domain.services.matches.extend(ann, match.id)).rejects.toMatchObject({
        code: 'EXTENSION_LIMIT_REACHED',
      });
    });

    it('when someone outside the match extends it, then it is not found', async () => {
      const { match } = await matchedPair();
      const eve = await newUser(domain.database);
      await expect(domain.services.matches.extend(eve, match.id)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('when a match is past its expiry but not swept yet, then sends and extensions fail at once', async () => {
      const { ann, bob, match } = await matchedPair();
      await send(match.id, ann, 'before');
      await setExpiry(domain.database, match.id, new Date(Date.now() - 1000));

      await expect(send(match.id, bob, 'after')).rejects.toMatchObject({
        code: 'MATCH_NOT_ACTIVE',
      });
      await expect(domain.services.matches.extend(ann, match.id)).rejects.toMatchObject({
        code: 'MATCH_NOT_ACTIVE',
        details: { status: 'expired' },
      });
      expect((await storedMatch(match.id)).status).toBe('active'); // the sweeper has not run
    });

    it('when the sweeper runs on two pods at once, then each due match is expired and announced exactly once', async () => {
      const due = await Promise.all([matchedPair(), matchedPair(), matchedPair()]);
      const { match: live } = await matchedPair();
      for (const { match } of due) {
        await setExpiry(domain.database, match.id, new Date(Date.now() - 1000));
      }
      const other = await domain.pod();
      try {
        const before = domain.broadcaster.events('match:ended').length;
        await Promise.all([domain.services.sweeper.sweep(), other.services.sweeper.sweep()]);

        for (const { ann, bob, match } of due) {
          const stored = await storedMatch(match.id);
          expect(stored.status).toBe('expired');
          const ended = domain.broadcaster
            .events('match:ended')
            .filter((e) => (e.payload as { match_id: number }).match_id === match.id);
          expect(ended).toEqual(
            toEachOf(ann, bob, 'match:ended', { match_id: match.id, reason: 'expired' }),
          );
          expect(domain.broadcaster.log).toContainEqual({
            rooms: pairRooms(ann, bob),
            kind: 'leave',
            target: `match:${match.id}`,
          });
        }
        const announced = domain.broadcaster
          .events('match:ended')
          .slice(before)
          .map((e) => `${(e.payload as { match_id: number }).match_id} to ${e.rooms.join()}`);
        expect(new Set(announced).size).toBe(announced.length); // none announced twice
        expect((await storedMatch(live.id)).status).toBe('active');
      } finally {
        await other.close();
      }
    });
  });

  describe('unmatch and block', () => {
    it('when one side unmatches, then the match ends for both, both leave the room, and sends fail', async () => {
      const { ann, bob, match } = await matchedPair();
      const ended = await domain.services.matches.unmatch(bob, match.id);
      expect(ended.status).toBe('unmatched');
      const stored = await storedMatch(match.id);
      expect(stored).toMatchObject({ status: 'unmatched', ended_by: bob });
      expect(domain.broadcaster.log).toEqual(
        expect.arrayContaining(
          toEachOf(ann, bob, 'match:ended', { match_id: match.id, reason: 'unmatched' }),
        ),
      );
      expect(domain.broadcaster.log).toContainEqual({
        rooms: pairRooms(ann, bob),
        kind: 'leave',
        target: `match:${match.id}`,
      });
      await expect(send(match.id, ann, 'late')).rejects.toMatchObject({ code: 'MATCH_NOT_ACTIVE' });
      await expect(domain.services.matches.unmatch(ann, match.id)).rejects.toMatchObject({
        code: 'MATCH_NOT_ACTIVE',
      });
    });

    it('when a user blocks their partner, then the match ends as blocked and neither finds the other again until unblocked', async () => {
      const { ann, bob, match } = await matchedPair({ is_premium: true });
      const city = (await domain.database.db
        .selectFrom('users')
        .select('city')
        .where('id', '=', ann)
        .executeTakeFirstOrThrow())!.city!;
      await domain.services.moderation.block(bob, { blocked_user_id: ann });

      expect((await storedMatch(match.id)).status).toBe('blocked');
      expect(domain.broadcaster.log).toContainEqual(
        expect.objectContaining({
          event: 'match:ended',
          payload: { match_id: match.id, reason: 'blocked' },
        }),
      );
      for (const [me, other] of [
        [ann, bob],
        [bob, ann],
      ] as const) {
        await expect(
          domain.services.matches.findMatch(me, { user_id: me, city }),
        ).rejects.toMatchObject({ code: 'NO_CANDIDATES' });
        expect(other).toBeGreaterThan(0);
      }

      await domain.services.moderation.unblock(bob, { blocked_user_id: ann });
      const again = await domain.services.matches.findMatch(ann, { user_id: ann, city });
      expect(again.partner_id).toBe(bob);
    });

    it('when a user blocks themselves, then it is a validation error', async () => {
      const me = await newUser(domain.database);
      await expect(
        domain.services.moderation.block(me, { blocked_user_id: me }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });

  describe('secret chat', () => {
    it('when one side requests and the other accepts, then new messages are secret and expire after the TTL', async () => {
      const { ann, bob, match } = await matchedPair();
      await send(match.id, ann, 'plain');

      const requested = await domain.services.secretChat.request(ann, match.id);
      expect(requested).toMatchObject({ secret_chat: 'requested', secret_requested_by: ann });
      await expect(domain.services.secretChat.accept(ann, match.id)).rejects.toMatchObject({
        code: 'SECRET_CHAT_NOT_REQUESTED',
      });
      const active = await domain.services.secretChat.accept(bob, match.id);
      expect(active.secret_chat).toBe('active');
      expect(domain.broadcaster.log).toEqual(
        expect.arrayContaining(
          toEachOf(ann, bob, 'secret_chat:requested', { match_id: match.id, requested_by: ann }),
        ),
      );
      expect(domain.broadcaster.log).toEqual(
        expect.arrayContaining(
          toEachOf(ann, bob, 'secret_chat:active', { match_id: match.id, requested_by: ann }),
        ),
      );

      const { message } = await send(match.id, bob, 'secret');
      expect(message.is_secret).toBe(true);
      const stored = await domain.database.db
        .selectFrom('messages')
        .select(['created_at', 'expires_at'])
        .where('id', '=', message.id)
        .executeTakeFirstOrThrow();
      expect(stored.expires_at!.getTime() - stored.created_at.getTime()).toBeGreaterThan(
        24 * HOUR - 5_000,
      );
    });

    it('when a secret message is past its TTL, then history hides it and the sweeper deletes it', async () => {
      const { ann, bob, match } = await matchedPair();
      await send(match.id, ann, 'plain');
      await domain.services.secretChat.request(bob, match.id);
      await domain.services.secretChat.accept(ann, match.id);
      const { message: secret } = await send(match.id, ann, 'secret');
      const { message: fresh } = await send(match.id, bob, 'fresh secret');
      await domain.database.db
        .updateTable('messages')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', secret.id)
        .execute();

      const page = await domain.services.messages.history(bob, match.id, { limit: 50 });
      expect(page.messages.map((m) => m.body)).toEqual(['plain', 'fresh secret']);

      await domain.services.sweeper.sweep();
      const left = await domain.database.db
        .selectFrom('messages')
        .select('id')
        .where('match_id', '=', match.id)
        .orderBy('seq')
        .execute();
      expect(left.map((m) => m.id)).not.toContain(secret.id);
      expect(left.map((m) => m.id)).toContain(fresh.id);
      expect(left).toHaveLength(2);
    });

    it('when a match is not live, then a secret chat cannot be requested', async () => {
      const { ann, match } = await matchedPair();
      await domain.services.matches.unmatch(ann, match.id);
      await expect(domain.services.secretChat.request(ann, match.id)).rejects.toMatchObject({
        code: 'MATCH_NOT_ACTIVE',
      });
    });
  });

  describe('report', () => {
    it('when a user reports their partner, then the report keeps the last 20 messages as evidence', async () => {
      const { ann, bob, match } = await matchedPair();
      for (let i = 1; i <= 25; i++) await send(match.id, i % 2 ? bob : ann, `m${i}`);

      const report = await domain.services.moderation.report(ann, {
        match_id: match.id,
        reason: 'harassment',
        details: 'rude',
      });
      expect(report).toMatchObject({
        match_id: match.id,
        reported_user_id: bob,
        reason: 'harassment',
        status: 'open',
        evidence_count: 20,
      });
      const stored = await domain.database.db
        .selectFrom('reports')
        .selectAll()
        .where('id', '=', report.id)
        .executeTakeFirstOrThrow();
      expect(stored).toMatchObject({ reporter_id: ann, reported_user_id: bob, details: 'rude' });
      const evidence = stored.evidence as { seq: number; body: string; sender_id: number }[];
      expect(evidence.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6));
      expect(evidence[0]).toMatchObject({ body: 'm6', sender_id: ann });

      // The evidence outlives the messages.
      await sql`DELETE FROM messages WHERE match_id = ${match.id}`.execute(domain.database.db);
      const kept = await domain.database.db
        .selectFrom('reports')
        .select('evidence')
        .where('id', '=', report.id)
        .executeTakeFirstOrThrow();
      expect(kept.evidence).toHaveLength(20);
    });

    it('when the reported user is not the partner or the match is not theirs, then it is refused', async () => {
      const { ann, match } = await matchedPair();
      const eve = await newUser(domain.database);
      await expect(
        domain.services.moderation.report(ann, {
          match_id: match.id,
          reported_user_id: eve,
          reason: 'spam',
        }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(
        domain.services.moderation.report(eve, { match_id: match.id, reason: 'spam' }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('stats', () => {
    it('when a free user has matched and chatted, then stats count it and what is left today', async () => {
      const { ann, bob, match } = await matchedPair();
      await send(match.id, ann, 'one');
      await send(match.id, bob, 'two');
      const stats = await domain.services.matches.stats(ann);
      expect(stats).toMatchObject({
        user_id: ann,
        is_premium: false,
        total_matches: 1,
        active_matches: 1,
        messages_exchanged: 2,
        matches_today: 1,
        daily_limit: 3,
        remaining_today: 2,
      });
      expect(stats.resets_at).toMatch(/T00:00:00\.000Z$/);
    });
  });
});
