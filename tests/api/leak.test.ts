import sharp from 'sharp';
import type { ChatSocket } from '@mm/client';
import { unlockShareAt, UNLOCK_THRESHOLDS, type PartnerView } from '@mm/contract';
import type { DatabaseHandle, PhotoRendition } from '@mm/db';
import { findPhotoRendition } from '@mm/db';
import { openTestDatabase } from '@mm/db/testing';
import { connect, createUser, freshUserId, nextEvent, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/**
 * The leak suite (issue 12): every view one side of a match has of the other, over the real
 * REST API and sockets of the embedded service on Postgres, at each unlock level and after a
 * block or an unmatch. Each view must carry exactly the documented keys, and no value from above
 * the level may appear anywhere in what is sent; discovery must not change with a match.
 *
 * Views: my-matches, chat history, sync, the socket events (match:new, message:new,
 * match:unlocked, match:ended, presence, read), partner-photo, online-status, discovery scroll and
 * batch.
 */

/** The keys a partner view carries at each level (README, "Progressive unlock"). */
const PARTNER_KEYS: string[][] = [
  ['display_name', 'level', 'next_level_at'],
  ['age', 'city', 'display_name', 'level', 'next_level_at'],
  ['age', 'city', 'display_name', 'level', 'next_level_at', 'photo_blur', 'photo_url'],
  [
    ...['age', 'bio', 'city', 'display_name', 'interests', 'level', 'next_level_at'],
    ...['photo_blur', 'photo_url'],
  ],
  [
    ...['age', 'bio', 'city', 'display_name', 'gender', 'interests', 'level', 'next_level_at'],
    'photo_url',
  ],
];
const MATCH_KEYS = [
  ...['created_at', 'expires_at', 'extended_count', 'id', 'last_read_seq', 'message_count'],
  ...['partner', 'partner_id', 'secret_chat', 'secret_requested_by', 'status'],
  ...['last_delivered_seq', 'partner_last_delivered_seq', 'partner_last_read_seq'],
].sort();
const MESSAGE_KEYS = [
  ...['body', 'client_id', 'created_at', 'id', 'is_secret', 'match_id', 'seq', 'sender_id'],
  'deleted',
].sort();
const CARD_KEYS = ['age', 'city', 'gender', 'interests', 'ref'];
const RENDITION_AT: Record<number, PhotoRendition> = { 2: 'blur_50', 3: 'blur_25', 4: 'clear' };

const keysOf = (value: object) => Object.keys(value).sort();

describe('leak suite: what one side of a match sees of the other', () => {
  let api: TestService;
  let database: DatabaseHandle;
  let photo: Buffer;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    api = await startTestService('leak');
    database = await openTestDatabase(api.schema, 2);
    photo = await sharp({
      create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 90 } },
    })
      .png()
      .toBuffer();
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await database?.close();
    await api?.stop();
  });

  const open = async (user: TestUser) => {
    const socket = await connect(api.url, user);
    sockets.push(socket);
    return socket;
  };
  /** Every event of these names the socket receives, in order. */
  const record = (socket: ChatSocket, names: string[]) => {
    const got: Array<{ event: string; payload: any }> = [];
    for (const event of names) {
      socket.on(event as never, ((payload: unknown) => got.push({ event, payload })) as never);
    }
    return got;
  };
  /** A round trip on the socket: whatever the server emitted to it before has arrived. */
  const settle = (socket: ChatSocket) => socket.emitWithAck('sync', { since: {} });

  const call = async (user: TestUser, method: string, path: string, init: RequestInit = {}) => {
    const response = await fetch(api.url + path, {
      method,
      ...init,
      headers: { ...(init.headers as object), authorization: `Bearer ${user.token}` },
    });
    const type = response.headers.get('content-type') ?? '';
    const body = type.startsWith('application/json')
      ? ((await response.json()) as any)
      : Buffer.from(await response.arrayBuffer());
    return { status: response.status, body };
  };
  const uploadPhoto = (user: TestUser, bytes: Buffer) =>
    call(user, 'PUT', '/api/users/me/photo', {
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(bytes),
    });

  let pairNo = 0;
  /**
   * Values only a given level may show, unique to this person: finding one anywhere in a view
   * below its level is a leak. `contact` is what they write in a message.
   */
  function secretsOf(tag: string) {
    const n = `${tag}${++pairNo}x${Date.now() % 100_000}`;
    return {
      profile: {
        display_name: `Name${n}`,
        gender: 'nonbinary' as const,
        birth_date: '1993-04-05',
        city: `City${n}`,
        interests: [`interest${n}`],
        bio: `bio${n}`,
        photo_url: `https://photos.example/clear-${n}.jpg`,
      },
      contact: `contact${n}@mail.example`,
    };
  }
  type Secrets = ReturnType<typeof secretsOf>;
  /** The values of `secrets` that must not show at `level` (the birth date never does). */
  const hiddenAt = (secrets: Secrets, level: number): string[] =>
    [
      secrets.profile.birth_date,
      level < 1 && secrets.profile.city,
      level < 3 && secrets.profile.bio,
      level < 3 && secrets.profile.interests[0]!,
      level < 4 && secrets.profile.display_name,
      level < 4 && secrets.profile.gender,
      level < 4 && secrets.contact,
      // An uploaded photo is served per match: its outside address never shows.
      secrets.profile.photo_url,
    ].filter((value): value is string => typeof value === 'string');

  /** Two people with secret profiles and photos, sockets open, matched by Ann. */
  async function matchedPair() {
    const annSecrets = secretsOf('ann');
    const zedSecrets = secretsOf('zed');
    const ann = await createUser(api.url, freshUserId());
    const zed = await createUser(api.url, freshUserId());
    // Both in the same city so find-match pairs them; each hides their own values otherwise.
    const city = zedSecrets.profile.city;
    await ann.rest.saveProfile({ ...annSecrets.profile, city });
    await zed.rest.saveProfile(zedSecrets.profile);
    annSecrets.profile.city = city;
    expect((await uploadPhoto(ann, photo)).status).toBe(200);
    expect((await uploadPhoto(zed, photo)).status).toBe(200);
    const annSocket = await open(ann);
    const zedSocket = await open(zed);
    const annEvents = record(annSocket, EVENTS);
    const zedEvents = record(zedSocket, EVENTS);
    const discoveryBefore = await discovery(ann, city, [zed.id]);
    const zedHears = nextEvent(zedSocket, 'match:new');
    const match = await ann.rest.findMatch(ann.id, { city });
    expect(match.partner_id).toBe(zed.id);
    await zedHears;
    return {
      ann: { user: ann, socket: annSocket, events: annEvents, secrets: annSecrets },
      zed: { user: zed, socket: zedSocket, events: zedEvents, secrets: zedSecrets },
      match,
      city,
      discoveryBefore,
    };
  }
  type Side = Awaited<ReturnType<typeof matchedPair>>['ann'];
  const EVENTS = [
    ...['match:new', 'message:new', 'match:unlocked', 'match:ended', 'presence', 'read'],
    'match:extended',
  ];

  /** What `viewer` sees in discovery of this city and, through its refs, of these ids. */
  async function discovery(viewer: TestUser, city: string, ids: number[]) {
    const page = await viewer.rest.scrollProfiles({ city, limit: 50 });
    const refs = ids.map((id) => api.service.services.profileRefs.ref(viewer.id, id));
    const batch = await viewer.rest.profilesBatch(refs);
    for (const card of [...page.profiles, ...batch]) expect(keysOf(card)).toEqual(CARD_KEYS);
    return { scroll: page.profiles, batch };
  }

  /** Brings the match to `level` with a real send from Zed that opens it (both sides' shares). */
  async function reachLevel(pair: Awaited<ReturnType<typeof matchedPair>>, level: number) {
    const { match, zed } = pair;
    const threshold = UNLOCK_THRESHOLDS[level]!;
    if (level > 0) {
      const share = unlockShareAt(level);
      // Ann (user_a, the older id) wrote the rest; Zed's next message completes his share.
      await database.db
        .updateTable('matches')
        .set({
          message_count: threshold - 1,
          a_message_count: threshold - share,
          b_message_count: share - 1,
          unlocked_level: level - 1,
        })
        .where('id', '=', match.id)
        .execute();
    }
    const ack = await zed.socket.emitWithAck('message:send', {
      match_id: match.id,
      client_id: `opens-${level}`,
      body: `write to ${zed.secrets.contact}`,
    });
    expect(ack).toMatchObject({ ok: true, message: { seq: Math.max(threshold, 1) } });
  }

  /** Every view `viewer` has of the match and its partner, as sent over the wire. */
  async function viewsOf(viewer: Side, matchId: number) {
    const { user, socket } = viewer;
    const matches = await user.rest.myMatches(user.id);
    const history = await call(user, 'GET', `/api/mystery/chat/${matchId}`);
    const sync = await socket.emitWithAck('sync', { since: { [matchId]: 0 } });
    const online = await call(user, 'GET', `/api/mystery/chat/online-status/${matchId}/${user.id}`);
    const partnerPhoto = await call(user, 'GET', `/api/mystery/matches/${matchId}/partner-photo`);
    await settle(socket);
    return {
      match: matches.find((m) => m.id === matchId)!,
      history: history.body,
      sync,
      online,
      partnerPhoto,
      events: viewer.events,
    };
  }

  /** No value above `level` anywhere in the views, and each carries exactly its keys. */
  function expectNothingAbove(
    views: Awaited<ReturnType<typeof viewsOf>>,
    partner: Side,
    level: number,
  ) {
    const text = JSON.stringify({ ...views, partnerPhoto: views.partnerPhoto.status });
    for (const value of hiddenAt(partner.secrets, level)) expect(text).not.toContain(value);

    expect(keysOf(views.match)).toEqual([...MATCH_KEYS, 'last_message', 'unread_count'].sort());
    if (views.match.last_message) {
      expect(keysOf(views.match.last_message)).toEqual(
        ['body', 'created_at', 'deleted', 'is_secret', 'sender_id', 'seq'].sort(),
      );
    }
    expect(keysOf(views.match.partner)).toEqual(PARTNER_KEYS[level]);
    expect(views.match.partner.level).toBe(level);
    for (const message of [...views.history.messages, ...(views.sync as any).messages]) {
      expect(keysOf(message)).toEqual(MESSAGE_KEYS);
    }
    for (const { event, payload } of views.events) {
      if (event === 'match:new') expect(keysOf(payload)).toEqual(MATCH_KEYS);
      if (event === 'message:new') expect(keysOf(payload)).toEqual(MESSAGE_KEYS);
      if (event === 'presence')
        expect(keysOf(payload)).toEqual(['last_seen_at', 'online', 'user_id']);
      if (event === 'read' || event === 'message:delivered' || event === 'message:deleted')
        expect(keysOf(payload)).toEqual(['match_id', 'seq', 'user_id']);
      if (event === 'unread:total') expect(keysOf(payload)).toEqual(['total']);
      if (event === 'match:ended') expect(keysOf(payload)).toEqual(['match_id', 'reason']);
      if (event === 'match:unlocked')
        expect(keysOf(payload)).toEqual(['level', 'match_id', 'partner']);
      const partnerView = (payload as { partner?: PartnerView }).partner;
      // A partner view sent earlier may carry a lower level than now, never a higher one.
      if (partnerView) {
        expect(partnerView.level).toBeLessThanOrEqual(level);
        expect(keysOf(partnerView)).toEqual(PARTNER_KEYS[partnerView.level]);
      }
    }
  }

  describe.each([0, 1, 2, 3, 4])('at level %i', (level) => {
    it('when each side reads every view of the other, then each carries exactly the level’s fields and nothing from above it', async () => {
      const pair = await matchedPair();
      await reachLevel(pair, level);
      await nextEventOrSeen(pair.ann, 'message:new');
      if (level > 0) await nextEventOrSeen(pair.ann, 'match:unlocked');
      // Zed reads and goes offline and back: Ann hears `read` and `presence`.
      await pair.zed.socket.emitWithAck('read', { match_id: pair.match.id, seq: 1 });
      pair.zed.socket.disconnect();
      await nextEventOrSeen(pair.ann, 'presence');

      for (const [viewer, partner] of [
        [pair.ann, pair.zed],
        [pair.zed, pair.ann],
      ] as const) {
        if (viewer === pair.zed) viewer.socket = await open(viewer.user);
        const views = await viewsOf(viewer, pair.match.id);
        expectNothingAbove(views, partner, level);

        const bodies = views.history.messages.map((m: { body: string }) => m.body);
        expect(bodies).toEqual([
          level >= 4 ? `write to ${pair.zed.secrets.contact}` : 'write to [contact hidden]',
        ]);
        expect(views.online.status).toBe(200);
        expect(keysOf(views.online.body)).toEqual(['last_seen_at', 'online', 'user_id']);
        const rendition = RENDITION_AT[level];
        if (rendition) {
          expect(views.partnerPhoto.status).toBe(200);
          const stored = await findPhotoRendition(database.db, partner.user.id, rendition);
          expect(views.partnerPhoto.body.equals(stored!.bytes)).toBe(true);
        } else {
          expect(views.partnerPhoto).toMatchObject({
            status: 403,
            body: { error: { code: 'PHOTO_LOCKED' } },
          });
        }
      }
      expect(pair.ann.events.map((e) => e.event)).toEqual(
        expect.arrayContaining(['match:new', 'message:new', 'read', 'presence']),
      );

      // Discovery shows Ann the same cards as before the match: none can be picked out as Zed's.
      expect(await discovery(pair.ann.user, pair.city, [pair.zed.user.id])).toEqual(
        pair.discoveryBefore,
      );
    });
  });

  describe.each(['block', 'unmatch'] as const)('after a %s', (ending) => {
    it('when the match had reached level 4, then each side sees the other as a level-0 stranger in every view, and nothing crosses any more', async () => {
      const pair = await matchedPair();
      await reachLevel(pair, 4);
      await nextEventOrSeen(pair.ann, 'match:unlocked');
      const { ann, zed, match } = pair;

      // Zed also has a live match with Carol: she hears his presence, Ann must not.
      const carol = await createUser(api.url, freshUserId());
      const carolCity = `${pair.city} Carol`;
      await carol.rest.saveProfile({ display_name: 'Carol', city: carolCity });
      const carolSocket = await open(carol);
      await zed.user.rest.findMatch(zed.user.id, { city: carolCity });

      if (ending === 'block') await zed.user.rest.block(ann.user.id);
      else await zed.user.rest.unmatch(match.id);
      await nextEventOrSeen(ann, 'match:ended');
      const status = ending === 'block' ? 'blocked' : 'unmatched';

      // What Zed does after: a new name, city and bio, a new photo, presence and reads.
      const eventsBefore = ann.events.length;
      const renamed = {
        ...zed.secrets.profile,
        display_name: `${zed.secrets.profile.display_name}New`,
      };
      await zed.user.rest.saveProfile({ ...renamed, bio: `${zed.secrets.profile.bio}New` });
      const newPhoto = await sharp(photo).negate().png().toBuffer();
      expect((await uploadPhoto(zed.user, newPhoto)).status).toBe(200);
      const offline = heard(carolSocket, (p) => p.user_id === zed.user.id && !p.online);
      zed.socket.disconnect();
      await offline;
      const online = heard(carolSocket, (p) => p.user_id === zed.user.id && p.online);
      zed.socket = await open(zed.user);
      await online;
      expect(await zed.socket.emitWithAck('read', { match_id: match.id, seq: 4 })).toMatchObject({
        ok: true,
      });
      await settle(ann.socket);
      expect(ann.events.slice(eventsBefore)).toEqual([]);

      for (const [viewer, partner] of [
        [ann, zed],
        [zed, ann],
      ] as const) {
        const views = await viewsOf(viewer, match.id);
        expect(views.match.status).toBe(status);
        expect(views.match.partner).toEqual({
          level: 0,
          next_level_at: null,
          display_name: 'Mystery User',
        });
        const newValues = [
          `${partner.secrets.profile.display_name}New`,
          `${partner.secrets.profile.bio}New`,
        ];
        const text = JSON.stringify({ ...views, events: [] });
        for (const value of [...hiddenAt(partner.secrets, 0), ...newValues]) {
          expect(text).not.toContain(value);
        }
        // Their own conversation stays readable, contact details masked again.
        expect(views.history.messages.map((m: { body: string }) => m.body)).toEqual([
          'write to [contact hidden]',
        ]);
        expect((views.sync as any).messages.map((m: { body: string }) => m.body)).toEqual([
          'write to [contact hidden]',
        ]);
        expect(views.partnerPhoto).toMatchObject({
          status: 404,
          body: { error: { code: 'NOT_FOUND' } },
        });
        expect(views.online).toEqual({
          status: 200,
          body: { user_id: partner.user.id, online: false, last_seen_at: null },
        });
      }

      // Ann's read reaches only her own devices.
      const zedEventsBefore = zed.events.length;
      await ann.socket.emitWithAck('read', { match_id: match.id, seq: 150 });
      await settle(zed.socket);
      expect(zed.events.slice(zedEventsBefore).filter((e) => e.event === 'read')).toEqual([]);

      // Discovery shows Ann the same cards as before the match.
      expect(await discovery(ann.user, pair.city, [zed.user.id])).toEqual(pair.discoveryBefore);
    });
  });

  /** The first `event` the side received, waiting for it when it has not come yet. */
  async function nextEventOrSeen(side: Side, event: string) {
    if (side.events.some((e) => e.event === event)) return;
    await nextEvent(side.socket, event as 'presence', 5_000);
  }
  /** Resolves on the first `presence` the socket receives that passes `test`. */
  function heard(socket: ChatSocket, test: (payload: any) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such presence within 5 s')), 5_000);
      const listener = (payload: unknown) => {
        if (!test(payload)) return;
        clearTimeout(timer);
        socket.off('presence', listener);
        resolve();
      };
      socket.on('presence', listener);
    });
  }
});
