import { Redis } from 'ioredis';
import { AppError } from '../src/errors';
import { scoreKey } from '../src/matches/score-cache';
import {
  bornYearsAgo,
  newUser,
  openDomain,
  testRedisUrl,
  uniquePrefix,
  uploadPhoto,
  type Domain,
} from './support/domain';
import { closedPort } from '@mm/test-support/http';

describe('find match', () => {
  let domain: Domain;

  beforeAll(async () => {
    domain = await openDomain('find_match');
  });
  afterAll(() => domain?.close());

  /** Each test gets a city of its own, so candidates from other tests never qualify. */
  let cityNo = 0;
  const freshCity = () => `City ${++cityNo}`;
  const find = (userId: number, filters: Record<string, unknown> = {}) =>
    domain.services.matches.findMatch(userId, { user_id: userId, ...filters });
  const newUserIn = (city: string, fields: Parameters<typeof newUser>[1] = {}) =>
    newUser(domain.database, { city, ...fields });

  it('when candidates differ in fit, then the one with most shared interests, closest age and same city comes first', async () => {
    const city = freshCity();
    const me = await newUserIn(city, {
      interests: ['chess', 'jazz', 'hiking'],
      birth_date: bornYearsAgo(30),
    });
    await newUserIn(city, { interests: ['chess'], birth_date: bornYearsAgo(50) });
    const best = await newUserIn(city, {
      interests: ['Chess', 'jazz'],
      birth_date: bornYearsAgo(31),
    });
    await newUserIn(city, { interests: [], birth_date: bornYearsAgo(30) });

    const match = await find(me, { city });
    expect(match.partner_id).toBe(best);
  });

  it('when filters are given, then only candidates inside every filter are matched', async () => {
    const city = freshCity();
    const me = await newUserIn(city);
    const fits = await newUserIn(city, {
      gender: 'female',
      birth_date: bornYearsAgo(25),
      interests: ['surf'],
    });
    await newUserIn(city, { gender: 'male', birth_date: bornYearsAgo(25), interests: ['surf'] });
    await newUserIn(city, { gender: 'female', birth_date: bornYearsAgo(40), interests: ['surf'] });
    await newUserIn(city, { gender: 'female', birth_date: bornYearsAgo(25), interests: ['golf'] });
    await newUserIn(city, { gender: 'female', interests: ['surf'] }); // no age: outside a range
    await newUserIn(freshCity(), {
      gender: 'female',
      birth_date: bornYearsAgo(25),
      interests: ['surf'],
    });

    const filters = {
      city: city.toUpperCase(),
      gender: 'female',
      min_age: 20,
      max_age: 30,
      interests: ['surf', 'sailing'],
    };
    const match = await find(me, filters);
    expect(match.partner_id).toBe(fits);
    await expect(find(me, filters)).rejects.toMatchObject({ code: 'NO_CANDIDATES' });
  });

  it('when ages sit on the range edges, then min_age and max_age are inclusive in whole years', async () => {
    const city = freshCity();
    const me = await newUserIn(city);
    const justThirty = await newUserIn(city, { birth_date: bornYearsAgo(30) });
    const almostThirtyOne = await newUserIn(city, { birth_date: bornYearsAgo(31, -1) });
    await newUserIn(city, { birth_date: bornYearsAgo(31) }); // 31 today
    await newUserIn(city, { birth_date: bornYearsAgo(30, -1) }); // 29 until tomorrow

    const partners = [
      (await find(me, { city, min_age: 30, max_age: 30 })).partner_id,
      (await find(me, { city, min_age: 30, max_age: 30 })).partner_id,
    ];
    expect(partners.sort()).toEqual([justThirty, almostThirtyOne].sort());
    await expect(find(me, { city, min_age: 30, max_age: 30 })).rejects.toMatchObject({
      code: 'NO_CANDIDATES',
    });
  });

  it('when the only others are blocked either way, unapproved, deleted, inactive or already matched, then nobody is found', async () => {
    const city = freshCity();
    const me = await newUserIn(city);
    const iBlocked = await newUserIn(city);
    const blockedMe = await newUserIn(city);
    await newUserIn(city, { verification_status: 'pending' });
    await newUserIn(city, { verification_status: 'rejected' });
    await newUserIn(city, { deleted_at: new Date() });
    await newUserIn(city, { last_active_at: new Date(Date.now() - 90 * 86_400_000) });
    const partner = await newUserIn(city);
    await domain.services.moderation.block(me, { blocked_user_id: iBlocked });
    await domain.services.moderation.block(blockedMe, { blocked_user_id: me });

    expect((await find(me, { city })).partner_id).toBe(partner);
    await expect(find(me, { city })).rejects.toMatchObject({ code: 'NO_CANDIDATES' });
  });

  it('when the caller has no profile or an unapproved one, then find-match says so', async () => {
    await expect(find(999_999)).rejects.toMatchObject({ code: 'PROFILE_REQUIRED' });
    const pending = await newUserIn(freshCity(), { verification_status: 'pending' });
    await expect(find(pending)).rejects.toMatchObject({ code: 'PROFILE_NOT_APPROVED' });
  });

  it('when a free user asks one more time than the daily limit, then it is 429 DAILY_LIMIT_REACHED with resets_at', async () => {
    const city = freshCity();
    const me = await newUserIn(city);
    for (let i = 0; i < 4; i++) await newUserIn(city);
    for (let i = 0; i < 3; i++) await find(me, { city });

    const error = await find(me, { city }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'DAILY_LIMIT_REACHED', status: 429 });
    const resetsAt = new Date((error as AppError).details!.resets_at as string);
    expect(resetsAt.toISOString()).toMatch(/T00:00:00\.000Z$/);
    expect(resetsAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('when a premium user matches past the daily limit, then there is no limit', async () => {
    const city = freshCity();
    const me = await newUserIn(city, { is_premium: true });
    for (let i = 0; i < 5; i++) await newUserIn(city);
    for (let i = 0; i < 5; i++) await find(me, { city });
    const stats = await domain.services.matches.stats(me);
    expect(stats).toMatchObject({ active_matches: 5, daily_limit: null, remaining_today: null });
  });

  it('when one free user calls find-match 12 times at once on two pods, then exactly the daily limit of matches is created', async () => {
    const city = freshCity();
    const me = await newUserIn(city);
    for (let i = 0; i < 12; i++) await newUserIn(city);
    const other = await domain.pod();
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? other.services : domain.services).matches.findMatch(me, { user_id: me, city }),
        ),
      );
      const created = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(created).toHaveLength(3);
      expect(refused.map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(
        Array(9).fill('DAILY_LIMIT_REACHED'),
      );
      const rows = await domain.database.db
        .selectFrom('matches')
        .select(['user_a', 'user_b'])
        .where('created_by', '=', me)
        .execute();
      expect(rows).toHaveLength(3);
      // Three different partners: a pair never has two active matches.
      expect(new Set(rows.map((r) => `${r.user_a}:${r.user_b}`)).size).toBe(3);
    } finally {
      await other.close();
    }
  });

  it('when two users look for each other at once many times, then the pair gets exactly one active match', async () => {
    const city = freshCity();
    const ann = await newUserIn(city, { is_premium: true });
    const bob = await newUserIn(city, { is_premium: true });
    const other = await domain.pod();
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? other.services : domain.services).matches.findMatch(i % 2 ? ann : bob, {
            user_id: i % 2 ? ann : bob,
            city,
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failures = results.filter((r) => r.status === 'rejected');
      expect(
        failures.every((r) => (r as PromiseRejectedResult).reason.code === 'NO_CANDIDATES'),
      ).toBe(true);
      const active = await domain.database.db
        .selectFrom('matches')
        .select('id')
        .where('user_a', '=', Math.min(ann, bob))
        .where('user_b', '=', Math.max(ann, bob))
        .where('status', '=', 'active')
        .execute();
      expect(active).toHaveLength(1);
      // A failed attempt rolled its day's slot back: only the created match is counted (premium
      // matches are counted too, without a cap).
      const counts = await domain.database.db
        .selectFrom('daily_match_counts')
        .select('count')
        .where('user_id', 'in', [ann, bob])
        .execute();
      expect(counts.reduce((sum, row) => sum + row.count, 0)).toBe(1);
      // The claim enqueues the partner's push with the match: failed attempts left none.
      const pushes = await domain.database.db
        .selectFrom('notification_outbox')
        .select(['user_id', 'match_id', 'kind', 'event_key'])
        .where('user_id', 'in', [ann, bob])
        .execute();
      const searcher = results.findIndex((r) => r.status === 'fulfilled') % 2 ? ann : bob;
      const partner = searcher === ann ? bob : ann;
      expect(pushes).toEqual([
        {
          user_id: partner,
          match_id: active[0]!.id,
          kind: 'match',
          event_key: `match:${active[0]!.id}:${partner}`,
        },
      ]);
    } finally {
      await other.close();
    }
  });

  it('when a user searches, then the search is recorded as activity, at most once a minute', async () => {
    const city = freshCity();
    const lastActive = async (id: number) =>
      (
        await domain.database.db
          .selectFrom('users')
          .select('last_active_at')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).last_active_at.getTime();
    const setLastActive = (id: number, msAgo: number) =>
      domain.database.db
        .updateTable('users')
        .set({ last_active_at: new Date(Date.now() - msAgo) })
        .where('id', '=', id)
        .execute();
    const me = await newUserIn(city);
    // Nobody else in the city: the search finds no one and is still recorded.
    await setLastActive(me, 120_000);
    const before = Date.now();
    await expect(find(me, { city })).rejects.toMatchObject({ code: 'NO_CANDIDATES' });
    expect(await lastActive(me)).toBeGreaterThanOrEqual(before - 1_000);

    // Recorded less than a minute ago: left as it is.
    await setLastActive(me, 30_000);
    const recorded = await lastActive(me);
    await newUserIn(city);
    await find(me, { city });
    expect(await lastActive(me)).toBe(recorded);
  });

  it('when a match is created, then both users are told and joined to its room', async () => {
    const city = freshCity();
    const me = await newUserIn(city);
    const partner = await newUserIn(city);
    const match = await find(me, { city });
    const log = domain.broadcaster.log;
    expect(log).toContainEqual({
      rooms: [`user:${Math.min(me, partner)}`, `user:${Math.max(me, partner)}`],
      kind: 'join',
      target: `match:${match.id}`,
    });
    expect(domain.broadcaster.events('match:new')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rooms: [`user:${partner}`] }),
        expect.objectContaining({ rooms: [`user:${me}`] }),
      ]),
    );
  });

  it('when a match is created, then each side is sent the view its match list shows', async () => {
    // The claim reads both rows in its own statement: the views must be those a fresh read gives.
    const city = freshCity();
    const me = await newUserIn(city, { is_premium: true, gender: 'male', bio: 'caller bio' });
    const partner = await newUserIn(city, {
      gender: 'female',
      bio: 'partner bio',
      interests: ['chess'],
      birth_date: bornYearsAgo(30),
      photo_url: 'https://example.com/p.jpg',
    });
    await uploadPhoto(domain.database, partner);
    const answer = await find(me, { city });
    const sent = (userId: number) =>
      domain.broadcaster.events('match:new').find((entry) => entry.rooms.includes(`user:${userId}`))
        ?.payload;
    const listed = async (userId: number) => {
      const [view] = await domain.services.matches.listMatches(userId);
      const { unread_count: _unread, last_message: _last, ...rest } = view!;
      return rest;
    };
    // Premium, the caller sees the partner in full (photo, bio, name); the partner sees a mystery.
    expect(answer.partner).toMatchObject({ display_name: `user ${partner}`, bio: 'partner bio' });
    expect(answer).toEqual(await listed(me));
    expect(sent(me)).toEqual(answer);
    expect(sent(partner)).toEqual(await listed(partner));
  });
});

describe('find match with the Redis score cache', () => {
  let domain: Domain;
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    redis = new Redis(testRedisUrl);
    prefix = uniquePrefix('scores');
    domain = await openDomain('find_match_cache', { redis, keyPrefix: prefix });
  });
  afterAll(async () => {
    await domain?.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(keys);
    redis.disconnect();
  });

  it('when scores are missing, then they are computed and cached under the sorted pair for an hour', async () => {
    const me = await newUser(domain.database, { city: 'Cachetown', interests: ['a', 'b'] });
    const other = await newUser(domain.database, { city: 'Cachetown', interests: ['a'] });
    await domain.services.matches.findMatch(me, { user_id: me, city: 'Cachetown' });

    const key = scoreKey(prefix, me, other);
    expect(key).toBe(`${prefix}:score:${Math.min(me, other)}:${Math.max(me, other)}`);
    expect(await redis.get(key)).toBe('15'); // one shared interest (10) and the same city (5)
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(3_500);
    expect(ttl).toBeLessThanOrEqual(3_600);
  });

  it('when a score is cached, then the cached score ranks the candidate', async () => {
    const me = await newUser(domain.database, { city: 'Hitville' });
    const plain = await newUser(domain.database, { city: 'Hitville' });
    await newUser(domain.database, { city: 'Hitville' });
    // Nothing about these profiles sets them apart; the cached score does.
    await redis.set(scoreKey(prefix, me, plain), 99, 'EX', 3_600);

    const match = await domain.services.matches.findMatch(me, { user_id: me, city: 'Hitville' });
    expect(match.partner_id).toBe(plain);
  });

  it('when Redis is unreachable, then find-match still matches, uncached', async () => {
    const down = new Redis(await closedPort(), '127.0.0.1', {
      maxRetriesPerRequest: 1,
      retryStrategy: () => 1_000,
    });
    down.on('error', () => undefined);
    const pod = await domain.pod({ redis: down });
    try {
      const me = await newUser(domain.database, { city: 'Downtown', interests: ['x'] });
      const best = await newUser(domain.database, { city: 'Downtown', interests: ['x'] });
      await newUser(domain.database, { city: 'Downtown' });

      const match = await pod.services.matches.findMatch(me, { user_id: me, city: 'Downtown' });
      expect(match.partner_id).toBe(best);
    } finally {
      await pod.close();
      down.disconnect();
    }
  });
});
