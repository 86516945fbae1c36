// The base tsconfig only loads Node's types; this file also needs jest's globals.
/// <reference types="jest" />
import { sql } from 'kysely';
import type { DatabaseHandle } from '../src/connection';
import { claimMatch } from '../src/queries/matchmaking.queries';
import { USER_COLUMNS } from '../src/queries/users.queries';
import { createTestSchema, insertUsers, openTestDatabase, type TestSchema } from '../src/testing';

// claim_match lists the columns it returns (a plpgsql function must): a column added to `matches`
// or `users` later has to be added there too, or the match and the views would lack it.
describe('claim_match answers whole rows', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    testSchema = await createTestSchema('db_claim_match');
    handle = await openTestDatabase(testSchema);
    await insertUsers(handle.db, [1, 2]);
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  test('when a match is claimed, then it comes with every column of matches, and both users with every column of users', async () => {
    const { rows } = await sql<{ column_name: string }>`
      SELECT column_name FROM information_schema.columns
      WHERE table_schema = ${testSchema.schema} AND table_name = 'matches'`.execute(handle.db);
    const matchColumns = rows.map((row) => row.column_name).sort();
    expect(USER_COLUMNS.length).toBeGreaterThan(0);

    const claimed = await claimMatch(handle.db, { userId: 2, otherId: 1, dailyLimit: 3, ttlMs: 1 });

    expect(Object.keys(claimed!.match).sort()).toEqual(matchColumns);
    const userColumns = [...USER_COLUMNS, 'has_uploaded_photo'].sort();
    for (const user of claimed!.users) expect(Object.keys(user).sort()).toEqual(userColumns);
    expect(claimed!.users.map((user) => user.id)).toEqual([1, 2]);
    expect(claimed!.match).toMatchObject({ user_a: 1, user_b: 2, created_by: 2 });
  });
});
