// The base tsconfig only loads Node's types; this file also needs jest's globals.
/// <reference types="jest" />
import { sql } from 'kysely';
import type { DatabaseHandle } from '../src/connection';
import { eitherSide, isSideOf, matchesOf, partnerOf } from '../src/queries/match-sides';
import {
  createTestSchema,
  insertMatch,
  insertUsers,
  openTestDatabase,
  type TestSchema,
} from '../src/testing';

describe('the two sides of a match', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;
  const matchIds: Record<string, number> = {};

  beforeAll(async () => {
    testSchema = await createTestSchema('db_match_sides');
    handle = await openTestDatabase(testSchema);
    await insertUsers(handle.db, [1, 2, 3]);
    for (const [a, b] of [
      [1, 2],
      [2, 3],
    ] as const) {
      matchIds[`${a}-${b}`] = await insertMatch(handle.db, a, b);
    }
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  test.each([
    { userId: 1, expected: ['1-2'] },
    { userId: 2, expected: ['1-2', '2-3'] },
    { userId: 3, expected: ['2-3'] },
    { userId: 4, expected: [] },
  ])(
    'when user $userId is asked for, then eitherSide finds exactly their matches, in kysely and in aliased SQL',
    async ({ userId, expected }) => {
      const ids = expected.map((pair) => matchIds[pair]!).sort((x, y) => x - y);
      const built = await handle.db
        .selectFrom('matches')
        .select('id')
        .where(eitherSide(userId))
        .orderBy('id')
        .execute();
      const { rows: raw } = await sql<{ id: number }>`
        SELECT ma.id FROM matches ma WHERE ${eitherSide(userId, 'ma')} ORDER BY ma.id`.execute(
        handle.db,
      );
      expect(built.map((row) => row.id)).toEqual(ids);
      expect(raw.map((row) => row.id)).toEqual(ids);
    },
  );

  test('when joined laterally on a column, then matchesOf finds each user exactly their matches, the active ones only when asked', async () => {
    await handle.db
      .updateTable('matches')
      .set({ status: 'expired' })
      .where('id', '=', matchIds['2-3']!)
      .execute();
    const of = async (active: boolean) => {
      const { rows } = await sql<{ user_id: number; id: number }>`
        SELECT caller.id AS user_id, m.id FROM unnest(${[1, 2, 3, 4]}::bigint[]) AS caller(id)
        CROSS JOIN LATERAL ${matchesOf(sql.ref<number>('caller.id'), { active })} m
        ORDER BY caller.id, m.id`.execute(handle.db);
      return rows.map((row) => [Number(row.user_id), row.id]);
    };
    const [oneTwo, twoThree] = [matchIds['1-2']!, matchIds['2-3']!];
    expect(await of(false)).toEqual([
      [1, oneTwo],
      [2, Math.min(oneTwo, twoThree)],
      [2, Math.max(oneTwo, twoThree)],
      [3, twoThree],
    ]);
    expect(await of(true)).toEqual([
      [1, oneTwo],
      [2, oneTwo],
    ]);
  });

  test('when given one side, then partnerOf answers the other and isSideOf tells a stranger apart', () => {
    const match = { user_a: 1, user_b: 2 };
    expect([partnerOf(match, 1), partnerOf(match, 2)]).toEqual([2, 1]);
    expect([isSideOf(match, 1), isSideOf(match, 2), isSideOf(match, 3)]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
