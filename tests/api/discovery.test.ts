import { CompiledQuery } from 'kysely';
import { scrollProfilesQuery, type DatabaseHandle } from '@mm/db';
import { openTestDatabase } from '@mm/db/testing';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/**
 * Profile discovery over REST on the embedded service and a real Postgres: who may be seen, the
 * filters, the keyset cursor, the batch lookup, and that a card shows nothing a match has not
 * unlocked.
 */
describe('profile discovery', () => {
  let api: TestService;
  let database: DatabaseHandle;

  beforeAll(async () => {
    api = await startTestService('discovery');
    database = await openTestDatabase(api.schema, 2);
  });
  afterAll(async () => {
    await database?.close();
    await api?.stop();
  });

  const call = async (user: TestUser | undefined, path: string) => {
    const response = await fetch(api.url + path, {
      headers: user ? { authorization: `Bearer ${user.token}` } : {},
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  /** Discovery names profiles by per-viewer refs; the test reads them back to user ids. */
  const refs = () => api.service.services.profileRefs;
  const idOf = (viewer: TestUser) => (card: { ref: string }) =>
    refs().resolve(viewer.id, card.ref)!;
  const refsFor = (viewer: TestUser, ids: number[]) => ids.map((id) => refs().ref(viewer.id, id));

  let cityNo = 0;
  /** `count` users with full profiles in a city of their own, and a caller elsewhere. */
  async function cityOf(count: number) {
    const city = `Discovery City ${++cityNo}`;
    const users: TestUser[] = [];
    for (let i = 0; i < count; i++) {
      const user = await createUser(api.url, freshUserId());
      await user.rest.saveProfile({
        display_name: `Secret Name ${user.id}`,
        gender: i % 2 ? 'female' : 'male',
        birth_date: `${1990 + i}-01-15`,
        city,
        interests: i % 2 ? ['chess'] : ['music', 'hiking'],
        bio: 'a bio nobody should see yet',
        photo_url: 'https://example.com/me.jpg',
      });
      users.push(user);
    }
    const caller = await createUser(api.url, freshUserId());
    return { city, users, caller };
  }

  /** Every page of the scroll with these filters. */
  async function walk(caller: TestUser, filters: string, limit: number) {
    const ids: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const suffix = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const { status, body } = await call(
        caller,
        `/api/v1/matching/profiles/scroll?${filters}&limit=${limit}${suffix}`,
      );
      expect(status).toBe(200);
      expect(body.profiles.length).toBeLessThanOrEqual(limit);
      ids.push(...body.profiles.map(idOf(caller)));
      expect(body.has_more).toBe(body.next_cursor !== null);
      if (!body.has_more) return ids;
      cursor = body.next_cursor;
    }
    throw new Error('the scroll never ended');
  }

  it('when a card is shown, then it carries exactly ref, gender, age, city and interests, and the ref works for the caller only', async () => {
    const { city, users, caller } = await cityOf(1);
    const { body } = await call(
      caller,
      `/api/v1/matching/profiles/scroll?city=${encodeURIComponent(city)}`,
    );
    expect(body.profiles).toHaveLength(1);
    const [card] = body.profiles;
    expect(Object.keys(card).sort()).toEqual(['age', 'city', 'gender', 'interests', 'ref']);
    expect(card).toEqual({
      ref: expect.any(String),
      gender: 'male',
      age: expect.any(Number),
      city,
      interests: ['music', 'hiking'],
    });
    expect(idOf(caller)(card)).toBe(users[0]!.id);
    const batch = await call(caller, `/api/v1/matching/profiles/batch?profile_ids=${card.ref}`);
    expect(batch.body.profiles).toEqual([card]);
    expect(JSON.stringify(body) + JSON.stringify(batch.body)).not.toMatch(/Secret Name|bio|http/);

    // Another viewer gets another ref for the same profile, and cannot use the caller's.
    const other = await createUser(api.url, freshUserId());
    const theirs = await call(
      other,
      `/api/v1/matching/profiles/scroll?city=${encodeURIComponent(city)}`,
    );
    expect(theirs.body.profiles[0].ref).not.toBe(card.ref);
    expect(await other.rest.profilesBatch([card.ref])).toEqual([]);
    // Nor does a user id stand in for a ref.
    expect(await caller.rest.profilesBatch([String(users[0]!.id)])).toEqual([]);
  });

  it('when the scroll is walked page by page, then every visible profile comes once, newest first', async () => {
    const { city, users, caller } = await cityOf(7);
    const ids = await walk(caller, `city=${encodeURIComponent(city)}`, 3);
    expect(ids).toEqual(users.map((u) => u.id).sort((a, b) => b - a));
  });

  it('when filters are given, then only profiles inside them are shown', async () => {
    const { city, users, caller } = await cityOf(6);
    const inCity = `city=${encodeURIComponent(city.toUpperCase())}`;
    const women = await walk(caller, `${inCity}&gender=female`, 50);
    expect(women.sort()).toEqual(users.filter((_, i) => i % 2).map((u) => u.id));
    const chess = await walk(caller, `${inCity}&interests=chess,poker`, 50);
    expect(chess.sort()).toEqual(users.filter((_, i) => i % 2).map((u) => u.id));
    const music = await walk(caller, `${inCity}&interests=music&interests=knitting`, 50);
    expect(music.sort()).toEqual(users.filter((_, i) => i % 2 === 0).map((u) => u.id));
    // Born 1990..1995 on 15 January: today they are all between 30 and 36 or so; the two
    // youngest are the last two.
    const { body: everyone } = await call(caller, `/api/v1/matching/profiles/scroll?${inCity}`);
    const ages = new Map<number, number>(
      everyone.profiles.map((p: { ref: string; age: number }) => [idOf(caller)(p), p.age]),
    );
    const youngest = ages.get(users[5]!.id)!;
    const young = await walk(caller, `${inCity}&max_age=${youngest + 1}`, 50);
    expect(young.sort()).toEqual([users[4]!.id, users[5]!.id]);
    const old = await walk(caller, `${inCity}&min_age=${youngest + 2}`, 50);
    expect(old.sort()).toEqual(users.slice(0, 4).map((u) => u.id));
  });

  it('when profiles are unapproved, deleted, blocked by the caller or the caller, then neither endpoint shows them; who blocked the caller still shows', async () => {
    const { city, users, caller } = await cityOf(6);
    const [shown, pending, deleted, blockedByCaller, blockerOfCaller, alsoShown] = users;
    await database.db
      .updateTable('users')
      .set({ verification_status: 'pending' })
      .where('id', '=', pending!.id)
      .execute();
    await database.db
      .updateTable('users')
      .set({ deleted_at: new Date() })
      .where('id', '=', deleted!.id)
      .execute();
    await caller.rest.block(blockedByCaller!.id);
    await blockerOfCaller!.rest.block(caller.id);
    await caller.rest.saveProfile({ display_name: 'caller', city });

    // A card that vanished when someone blocked the caller would point at that (ex-)partner.
    const visible = [shown!.id, blockerOfCaller!.id, alsoShown!.id];
    expect((await walk(caller, `city=${encodeURIComponent(city)}`, 2)).sort()).toEqual(
      [...visible].sort(),
    );
    const everyone = refsFor(caller, [...users.map((u) => u.id), caller.id, 987_654_321]);
    const { status, body } = await call(
      caller,
      `/api/v1/matching/profiles/batch?profile_ids=${everyone.join(',')}`,
    );
    expect(status).toBe(200);
    expect(body.profiles.map(idOf(caller))).toEqual(visible);
  });

  it('when two people get matched, unmatch or block, then discovery shows each of them the same cards as before, so no card can be picked out as the partner’s', async () => {
    const { city, users, caller } = await cityOf(3);
    await caller.rest.saveProfile({ display_name: 'caller', city });
    const inCity = `city=${encodeURIComponent(city)}`;
    const everyone = refsFor(
      caller,
      users.map((u) => u.id),
    );
    const seen = async (viewer: TestUser, refs: string[]) => ({
      scroll: await walk(viewer, inCity, 2),
      batch: (await viewer.rest.profilesBatch(refs)).map(idOf(viewer)),
    });
    const before = await seen(caller, everyone);
    expect([...before.scroll].sort()).toEqual(users.map((u) => u.id).sort());

    const match = await caller.rest.findMatch(caller.id, { city });
    const partner = users.find((u) => u.id === match.partner_id)!;
    const partnersRefs = refsFor(partner, [caller.id]);
    const partnerBefore = await partner.rest.profilesBatch(partnersRefs);
    expect(partnerBefore).toHaveLength(1);
    expect(await seen(caller, everyone)).toEqual(before);

    await caller.rest.unmatch(match.id);
    expect(await seen(caller, everyone)).toEqual(before);
    expect(await partner.rest.profilesBatch(partnersRefs)).toEqual(partnerBefore);

    // The blocker no longer sees whom they blocked (they know whom); the blocked side's view does
    // not change, so it cannot tell which card was the blocker's.
    await caller.rest.block(partner.id);
    expect(await partner.rest.profilesBatch(partnersRefs)).toEqual(partnerBefore);
    const afterBlock = await seen(caller, everyone);
    expect(afterBlock.batch).toEqual(before.batch.filter((id) => id !== partner.id));
  });

  it('when the batch names more than 50 refs, or none, or a malformed one, then it is 400 naming profile_ids', async () => {
    const caller = await createUser(api.url, freshUserId());
    const ids = refsFor(
      caller,
      Array.from({ length: 51 }, (_, i) => i + 1),
    ).join(',');
    for (const query of [`profile_ids=${ids}`, 'profile_ids=', 'profile_ids=ok,not*a*ref', '']) {
      const { status, body } = await call(caller, `/api/v1/matching/profiles/batch?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.details.fields[0].field).toMatch(/^profile_ids/);
    }
    const fifty = refsFor(
      caller,
      Array.from({ length: 50 }, (_, i) => i + 1),
    ).join(',');
    expect(
      (await call(caller, `/api/v1/matching/profiles/batch?profile_ids=${fifty}`)).status,
    ).toBe(200);
  });

  it('when the cursor or limit is not valid, then it is 400 naming it; without a token 401', async () => {
    const caller = await createUser(api.url, freshUserId());
    const bad = [
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from('{"before":-1}').toString('base64url')}`, 'cursor'],
      ['limit=51', 'limit'],
      ['limit=0', 'limit'],
      ['min_age=40&max_age=30', 'min_age'],
    ];
    for (const [query, field] of bad) {
      const { status, body } = await call(caller, `/api/v1/matching/profiles/scroll?${query}`);
      expect(status).toBe(400);
      expect(body.error.details.fields[0].field).toBe(field);
    }
    expect((await call(undefined, '/api/v1/matching/profiles/scroll')).status).toBe(401);
    expect((await call(undefined, '/api/v1/matching/profiles/batch?profile_ids=1')).status).toBe(
      401,
    );
  });

  it('when the table is large, then a page deep in the scroll is read through an index, not a scan and sort', async () => {
    await database.db.executeQuery(
      CompiledQuery.raw(`
        INSERT INTO users (id, display_name, gender, city, verification_status)
        SELECT 50000000 + n, 'bulk ' || n, (ARRAY['male', 'female', 'nonbinary'])[1 + n % 3],
               'Bulk ' || (n % 40), CASE WHEN n % 10 = 0 THEN 'pending' ELSE 'approved' END
        FROM generate_series(1, 20000) AS n`),
    );
    await database.db.executeQuery(CompiledQuery.raw('ANALYZE users'));
    for (const filters of [{}, { gender: 'female' as const }]) {
      const query = scrollProfilesQuery(database.db, 1, {
        ...filters,
        beforeId: 50_010_000,
        limit: 20,
      }).compile();
      const plan = await database.db.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`EXPLAIN ${query.sql}`, [...query.parameters]),
      );
      const text = plan.rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(text).toMatch(/Index (Only )?Scan Backward using users_visible_id_idx/);
      expect(text).not.toMatch(/Seq Scan on users|Sort/);
    }
  });
});
