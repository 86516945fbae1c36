import type { MatchView, MessageView, PartnerView } from '@mm/contract';
import { levelForCounts, viewerLevel, type MatchProgress } from '../src/unlock/unlock-levels';
import { MASK, maskContacts } from '../src/unlock/contact-masking';
import { defaultDomainRules } from '../src/rules';
import { createServices } from '../src/services';
import { setMessageCounts } from '@mm/db/testing';
import {
  bornYearsAgo,
  newUser,
  openDomain,
  uniquePrefix,
  uploadPhoto,
  type Domain,
} from './support/domain';

/** Values no lower level may show: each is unique, so finding it anywhere in a view is a leak. */
const SECRET = {
  display_name: 'Zephyrine Quillfeather',
  bio: 'bio-only-at-level-three',
  interests: ['interest-only-at-level-three'],
  photo_url: 'https://photos.example/clear-only-at-level-four.jpg',
  email: 'never-shown@example.com', // made unique per user below
  gender: 'nonbinary' as const,
  city: 'Cityonlyatlevelone',
  birth_date: bornYearsAgo(33),
};

/** The keys a partner view may carry at each level, and nothing else. */
const KEYS_AT_LEVEL: string[][] = [
  ['display_name', 'level', 'next_level_at'],
  ['age', 'city', 'display_name', 'level', 'next_level_at'],
  ['age', 'city', 'display_name', 'level', 'next_level_at', 'photo_blur', 'photo_url'],
  [
    'age',
    'bio',
    'city',
    'display_name',
    'interests',
    'level',
    'next_level_at',
    'photo_blur',
    'photo_url',
  ],
  [
    'age',
    'bio',
    'city',
    'display_name',
    'gender',
    'interests',
    'level',
    'next_level_at',
    'photo_url',
  ],
];
const THRESHOLDS = [0, 20, 60, 100, 150];

describe('progressive unlock', () => {
  let domain: Domain;

  beforeAll(async () => {
    domain = await openDomain('unlock', {
      rules: { messageRate: { points: 100_000, windowSeconds: 60 } },
    });
  });
  afterAll(() => domain?.close());

  let cityNo = 0;
  async function matchedPair(viewer: Parameters<typeof newUser>[1] = {}) {
    const city = `${SECRET.city} ${++cityNo}`; // unique per pair: find-match filters on it
    const ann = await newUser(domain.database, { city, ...viewer });
    const zed = await newUser(domain.database, {
      ...SECRET,
      city,
      email: `${cityNo}.${SECRET.email}`,
    });
    const match = await domain.services.matches.findMatch(ann, { user_id: ann, city });
    expect(match.partner_id).toBe(zed);
    return { ann, zed, match };
  }
  const setMessageCount = (matchId: number, count: number) =>
    setMessageCounts(domain.database.db, matchId, count);
  const annsView = async (ann: number, matchId: number): Promise<MatchView> =>
    (await domain.services.matches.listMatches(ann)).find((m) => m.id === matchId)!;
  const send = (matchId: number, senderId: number, clientId: string, body = clientId) =>
    domain.services.messages.send(senderId, { match_id: matchId, client_id: clientId, body });

  describe('levels', () => {
    const progress = (a: number, b: number, status: MatchProgress['status'] = 'active') => ({
      message_count: a + b,
      a_message_count: a,
      b_message_count: b,
      status,
    });

    it('when both sides wrote half of 20, 60, 100 and 150 messages, then the level is 1, 2, 3 and 4', () => {
      const levels = [0, 19, 20, 59, 60, 99, 100, 149, 150, 10_000].map((n) =>
        levelForCounts(n, Math.floor(n / 2)),
      );
      expect(levels).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    });

    it.each([
      [1, 20, 5],
      [2, 60, 15],
      [3, 100, 25],
      [4, 150, 38],
    ])(
      'when the total reaches level %i’s threshold %i, then it opens only once each side wrote %i (a quarter, rounded up)',
      (level, threshold, share) => {
        expect(levelForCounts(threshold, share)).toBe(level);
        expect(levelForCounts(threshold, share - 1)).toBe(level - 1);
        // However much one side writes, the other's share is still owed.
        expect(levelForCounts(10_000, share - 1)).toBe(level - 1);
        expect(levelForCounts(threshold - 1, share)).toBe(level - 1);
      },
    );

    it('when the viewer is premium, then they are at level 4 from the first message', () => {
      expect(viewerLevel(progress(0, 0), true)).toBe(4);
      expect(viewerLevel(progress(0, 0), false)).toBe(0);
    });

    it('when the match ended by block or unmatch, then every viewer, premium too, is at level 0; an expired match keeps its level', () => {
      for (const status of ['blocked', 'unmatched'] as const) {
        expect(viewerLevel(progress(75, 75, status), false)).toBe(0);
        expect(viewerLevel(progress(75, 75, status), true)).toBe(0);
      }
      expect(viewerLevel(progress(75, 75, 'expired'), false)).toBe(4);
    });
  });

  describe('partner views leak nothing above their level', () => {
    it.each([0, 1, 2, 3, 4])(
      'when the match is at level %i, then the partner view carries exactly that level’s fields',
      async (level) => {
        const { ann, zed, match } = await matchedPair();
        await uploadPhoto(domain.database, zed);
        await setMessageCount(match.id, THRESHOLDS[level]!);

        const view = await annsView(ann, match.id);
        const partner = view.partner;
        expect(Object.keys(partner).sort()).toEqual(KEYS_AT_LEVEL[level]);
        expect(partner.level).toBe(level);

        const text = JSON.stringify(view);
        expect(text).not.toContain(SECRET.email);
        expect(text).not.toContain(SECRET.birth_date);
        expect(text.includes(SECRET.display_name)).toBe(level >= 4);
        expect(text.includes(SECRET.city)).toBe(level >= 1);
        expect(text.includes(SECRET.bio)).toBe(level >= 3);
        expect(text.includes(SECRET.interests[0]!)).toBe(level >= 3);
        // The clear photo's own address never appears: an uploaded photo is served per match.
        expect(text).not.toContain(SECRET.photo_url);
        if (level >= 2) {
          expect(partner.photo_url).toBe(
            `/api/mystery/matches/${match.id}/partner-photo?level=${level}`,
          );
          expect(partner.photo_blur).toBe(level === 2 ? 50 : level === 3 ? 25 : undefined);
        }
      },
    );

    it('when the partner has no uploaded photo, then the outside photo address appears only at level 4', async () => {
      const { ann, match } = await matchedPair();
      for (const [count, expected] of [
        [60, null],
        [100, null],
        [150, SECRET.photo_url],
      ] as const) {
        await setMessageCount(match.id, count);
        const { partner } = await annsView(ann, match.id);
        expect(partner.photo_url).toBe(expected);
        expect(partner).not.toHaveProperty('photo_blur');
      }
    });

    it('when the viewer is premium, then they see the whole partner at once while the partner sees a mystery', async () => {
      const { ann, zed, match } = await matchedPair({ is_premium: true });
      expect(match.partner).toMatchObject({
        level: 4,
        display_name: SECRET.display_name,
        age: 33,
        next_level_at: null,
      });
      const zedsView = (await domain.services.matches.listMatches(zed)).find(
        (m) => m.id === match.id,
      )!;
      expect(zedsView.partner).toEqual({
        level: 0,
        next_level_at: 20,
        display_name: 'Mystery User',
      });
      expect(JSON.stringify(zedsView)).not.toContain(`user ${ann}`);
    });

    it('when a match is created, then each side is told of it with a mystery partner', async () => {
      const { ann, zed, match } = await matchedPair();
      const told = domain.broadcaster
        .events('match:new')
        .filter((e) => (e.payload as MatchView).id === match.id);
      expect(told).toHaveLength(2);
      for (const event of told) {
        expect((event.payload as MatchView).partner).toEqual({
          level: 0,
          next_level_at: 20,
          display_name: 'Mystery User',
        });
      }
      expect(told.map((e) => e.rooms).sort()).toEqual([[`user:${ann}`], [`user:${zed}`]].sort());
    });
  });

  describe('match:unlocked', () => {
    it('when the 20th message is sent, then both sides are told once, each with their own view of the partner', async () => {
      const { ann, zed, match } = await matchedPair();
      const unlocked = () =>
        domain.broadcaster
          .events('match:unlocked')
          .filter((e) => (e.payload as { match_id: number }).match_id === match.id);
      for (let n = 1; n <= 19; n++) await send(match.id, n % 2 ? ann : zed, `m${n}`);
      expect(unlocked()).toHaveLength(0);

      await send(match.id, zed, 'm20');
      await send(match.id, zed, 'm20'); // a resend stores nothing and announces nothing
      await send(match.id, ann, 'm21');

      const events = unlocked();
      expect(events).toHaveLength(2);
      const toAnn = events.find((e) => e.rooms[0] === `user:${ann}`)!.payload as {
        level: number;
        partner: PartnerView;
      };
      const toZed = events.find((e) => e.rooms[0] === `user:${zed}`)!.payload as {
        partner: PartnerView;
      };
      expect(toAnn).toMatchObject({
        level: 1,
        partner: { city: expect.stringContaining(SECRET.city), age: 33 },
      });
      expect(toAnn.partner.display_name).toBe('Mystery User');
      expect(toZed.partner).toMatchObject({ level: 1, display_name: 'Mystery User' });
    });

    it('when one side sends 150 messages and the other none, then the level stays 0 and nothing is announced', async () => {
      const { ann, zed, match } = await matchedPair();
      for (let n = 1; n <= 150; n++) await send(match.id, ann, `alone-${n}`);
      const unlocked = domain.broadcaster
        .events('match:unlocked')
        .filter((e) => (e.payload as { match_id: number }).match_id === match.id);
      expect(unlocked).toHaveLength(0);
      for (const viewer of [ann, zed]) {
        const view = await annsView(viewer, match.id);
        expect(view.message_count).toBe(150);
        expect(view.partner).toEqual({
          level: 0,
          // Zed still owes his share of level 1: 5 messages.
          next_level_at: 155,
          display_name: 'Mystery User',
        });
      }
      // Contacts stay masked too: they need level 4.
      const { message } = await send(match.id, ann, 'contact', 'zed@example.com');
      expect(message.body).toBe(MASK);
    });

    it('when the quiet side writes its share, then the level opens on that message and is announced once', async () => {
      const { ann, zed, match } = await matchedPair();
      const unlocked = () =>
        domain.broadcaster
          .events('match:unlocked')
          .filter((e) => (e.payload as { match_id: number }).match_id === match.id)
          .map((e) => (e.payload as { level: number }).level);
      for (let n = 1; n <= 30; n++) await send(match.id, ann, `a${n}`);
      for (let n = 1; n <= 4; n++) await send(match.id, zed, `z${n}`);
      expect(unlocked()).toEqual([]);
      expect((await annsView(ann, match.id)).partner.next_level_at).toBe(35);

      await send(match.id, zed, 'z5'); // total 35, Zed's 5th: level 1 opens
      expect(unlocked()).toEqual([1, 1]);
      await send(match.id, zed, 'z6');
      expect(unlocked()).toEqual([1, 1]);
      expect((await annsView(ann, match.id)).partner).toMatchObject({
        level: 1,
        next_level_at: 60,
      });
    });

    it('when a premium user’s match crosses a level, then only the free partner is told', async () => {
      const { ann, zed, match } = await matchedPair({ is_premium: true });
      // 45 from Ann and 14 from Zed: Zed's next message is the 60th and his 15th, his share.
      await domain.database.db
        .updateTable('matches')
        .set({ message_count: 59, a_message_count: 45, b_message_count: 14 })
        .where('id', '=', match.id)
        .execute();
      await domain.database.db
        .insertInto('messages')
        .values(
          Array.from({ length: 59 }, (_, i) => ({
            match_id: match.id,
            seq: i + 1,
            sender_id: i < 45 ? ann : zed,
            client_id: `seed-${i + 1}`,
            body: 'seed',
          })),
        )
        .execute();
      await send(match.id, zed, 'the-sixtieth');
      const events = domain.broadcaster
        .events('match:unlocked')
        .filter((e) => (e.payload as { match_id: number }).match_id === match.id);
      expect(events.map((e) => e.rooms)).toEqual([[`user:${zed}`]]);
      expect(events[0]!.payload).toMatchObject({ level: 2 });
    });
  });

  describe('the send path', () => {
    /** Sets the match's counts (no messages behind them: new seqs follow `a + b`). */
    const setCounts = (matchId: number, a: number, b: number, unlockedLevel: number) =>
      domain.database.db
        .updateTable('matches')
        .set({
          message_count: a + b,
          a_message_count: a,
          b_message_count: b,
          unlocked_level: unlockedLevel,
        })
        .where('id', '=', matchId)
        .execute();
    /** Sends in one turn of the event loop, so the writer stores them as one batch. */
    const sendTogether = (
      services: Pick<Domain['services'], 'messages'>,
      matchId: number,
      sends: { sender: number; clientId: string; body?: string }[],
    ) =>
      Promise.all(
        sends.map(({ sender, clientId, body = clientId }) =>
          services.messages.send(sender, { match_id: matchId, client_id: clientId, body }),
        ),
      );
    const delivered = (matchId: number) =>
      domain.broadcaster
        .events('message:new')
        .map((e) => e.payload as MessageView)
        .filter((m) => m.match_id === matchId);

    it('when a batch of sends past the first threshold is answered, then the database sees one statement for it, and message:new leaves in seq order', async () => {
      const { ann, zed, match } = await matchedPair();
      await setCounts(match.id, 15, 15, 1);
      let statements = 0;
      const counted = domain.database.db.withPlugin({
        transformQuery: (args) => {
          statements++;
          return args.node;
        },
        transformResult: async (args) => args.result,
      });
      const services = createServices({
        db: counted,
        broadcaster: domain.broadcaster,
        jwtSecret: 'a-test-secret-that-is-long-enough-for-hs256',
        rules: { ...defaultDomainRules(), messageRate: { points: 100_000, windowSeconds: 60 } },
        keyPrefix: uniquePrefix('send_path'),
      });
      const sends = [ann, zed, ann, zed].map((sender, i) => ({ sender, clientId: `b${i}` }));

      const results = await sendTogether(services, match.id, sends);
      expect(statements).toBe(1);
      expect(results.map((r) => r.message.seq)).toEqual([31, 32, 33, 34]);
      expect(delivered(match.id).map((m) => m.seq)).toEqual([31, 32, 33, 34]);
    });

    it('when one batch holds the 149th and the 150th message, then each is masked by the level at it: the 149th hidden, the 150th shown', async () => {
      const { ann, zed, match } = await matchedPair();
      await setCounts(match.id, 74, 74, 3);
      const body = 'text me: 555 123 4567';
      const results = await sendTogether(domain.services, match.id, [
        { sender: ann, clientId: 'the-149th', body },
        { sender: zed, clientId: 'the-150th', body },
      ]);
      expect(results.map((r) => [r.message.seq, r.message.body])).toEqual([
        [149, `text me: ${MASK}`],
        [150, body],
      ]);
      expect(delivered(match.id).map((m) => m.body)).toEqual([`text me: ${MASK}`, body]);
    });

    it('when one batch opens a level and goes on past it, then the level is announced once to each side', async () => {
      const { ann, zed, match } = await matchedPair();
      // 44 from Ann and 14 from Zed: the 60th message, Zed's 15th, opens level 2.
      await setCounts(match.id, 44, 14, 1);
      await sendTogether(domain.services, match.id, [
        { sender: ann, clientId: 'the-59th' },
        { sender: zed, clientId: 'the-60th' },
        { sender: ann, clientId: 'the-61st' },
        { sender: zed, clientId: 'the-62nd' },
      ]);
      const events = domain.broadcaster
        .events('match:unlocked')
        .filter((e) => (e.payload as { match_id: number }).match_id === match.id);
      expect(events.map((e) => [e.rooms, (e.payload as { level: number }).level])).toEqual([
        [[`user:${ann}`], 2],
        [[`user:${zed}`], 2],
      ]);
      const stored = await domain.database.db
        .selectFrom('matches')
        .select(['message_count', 'a_message_count', 'b_message_count', 'unlocked_level'])
        .where('id', '=', match.id)
        .executeTakeFirstOrThrow();
      expect(stored).toEqual({
        message_count: 62,
        a_message_count: 46,
        b_message_count: 16,
        unlocked_level: 2,
      });
    });
  });

  describe('contact masking', () => {
    it.each([
      ['mail me at anna.k+date@example.co.uk tonight', 'mail me at [contact hidden] tonight'],
      ['anna (at) example (dot) com', MASK],
      ['call +44 20 7946 0958', `call ${MASK}`],
      ['my number is 555-123-4567!', `my number is ${MASK}!`],
      ['(555) 123 4567', MASK],
      ['find me @anna_k.92 there', `find me ${MASK} there`],
      ['my insta is anna.k.92', `my ${MASK}`],
      ['snap: annak92', MASK],
      ['https://instagram.com/anna.k', MASK],
      ['t.me/annak', MASK],
    ])('when a message says %j, then it is masked', (body, expected) => {
      expect(maskContacts(body)).toBe(expected);
    });

    it.each([
      'See you at 7:30 by the station',
      'I have 2 cats and 1 dog',
      'Call me maybe, it is a song from 2012',
      'I love the colour #42 and the year 1999',
      'Email is old-fashioned',
    ])('when a message says %j, then it is left alone', (body) => {
      expect(maskContacts(body)).toBe(body);
    });

    it('when the match is below level 4, then contacts are masked in the ack, the live delivery, history and sync; from level 4 they show', async () => {
      const { ann, zed, match } = await matchedPair();
      const body = 'text me: 555 123 4567 or zed@example.com';
      const { message } = await send(match.id, zed, 'contact', body);
      expect(message.body).toBe(`text me: ${MASK} or ${MASK}`);
      const delivered = domain.broadcaster
        .events('message:new')
        .map((e) => e.payload as MessageView)
        .find((m) => m.match_id === match.id && m.client_id === 'contact')!;
      expect(delivered.body).toBe(message.body);

      const history = await domain.services.messages.history(ann, match.id, { limit: 50 });
      expect(history.messages.map((m) => m.body)).toEqual([message.body]);
      const sync = await domain.services.sync.since(ann, { since: { [match.id]: 0 }, limit: 200 });
      expect(sync.messages.map((m) => m.body)).toEqual([message.body]);

      // Level 4: the same stored message now shows as it was written, everywhere.
      await setMessageCount(match.id, 150);
      const unlockedHistory = await domain.services.messages.history(zed, match.id, { limit: 50 });
      expect(unlockedHistory.messages.map((m) => m.body)).toEqual([body]);
      const unlockedSync = await domain.services.sync.since(zed, {
        since: { [match.id]: 0 },
        limit: 200,
      });
      expect(unlockedSync.messages.map((m) => m.body)).toEqual([body]);
    });
  });
});
