// The base tsconfig only loads Node's types; this file also needs jest's globals.
/// <reference types="jest" />
import { sql } from 'kysely';
import type { DatabaseHandle } from '../src/connection';
import { findConnectingUsers } from '../src/queries/account.queries';
import { listActivePartnersLastSeen, listConnectingViews } from '../src/queries/presence.queries';
import { countUnreadTotals } from '../src/queries/read-receipts.queries';
import {
  createTestSchema,
  openTestDatabase,
  seedMatchedPairs,
  type TestSchema,
} from '../src/testing';
import { nodesOf, openExplainedSession, rowsReadBy, type LoggedPlan } from './plans';

/**
 * The reads a storm of reconnecting users batches (docs/design.md §5, "A pod's death"), on tables
 * just filled and never analyzed, as right after a seed or a bulk load: each user's matches and
 * partners are found by key, so a batch of 50 users reads a few rows each, never every active
 * match for each of them (what a join on `user_a = id OR user_b = id` was planned as without
 * statistics). Two of the reads run inside functions (`connecting_users`, `connecting_views`)
 * whose plans are kept for the session, so they are also read with those plans made while the
 * tables were empty, as a session that connected users early in a table's life keeps them.
 * EXPLAIN does not show a function's statements: the plans are read as they run, from
 * auto_explain (sent to this client as notices). The plans' rows are asserted; timings never are.
 */
const PAIRS = 5_000;
const CALLERS = 50;
/** Rows one batch may read from matches and users: a few per user, far below one table's size. */
const READ_BOUND = 20 * CALLERS;

type Read = (db: DatabaseHandle['db'], userIds: number[]) => Promise<unknown>;
/** The reads, and whether each runs in a function whose plan the session keeps. */
const reads: [string, Read, { keepsPlan: boolean }][] = [
  ['the standing and match rooms', findConnectingUsers, { keepsPlan: true }],
  ['the partners and when each was last seen', listActivePartnersLastSeen, { keepsPlan: false }],
  [
    'the unread totals',
    (db, userIds) => countUnreadTotals(db, { userIds, cap: 99 }),
    { keepsPlan: false },
  ],
  [
    'the unread totals with the partners',
    (db, userIds) => listConnectingViews(db, { userIds, cap: 99 }),
    { keepsPlan: true },
  ],
];

describe.each([
  ['on tables never analyzed', { plannedWhileEmpty: false }],
  // A statement sent on its own is planned again each time: only the kept plans are at stake.
  ['with the kept plans made while the tables were empty', { plannedWhileEmpty: true }],
])('the batched reads of connecting users, %s', (_scenario, { plannedWhileEmpty }) => {
  const readsHere = reads.filter(([, , { keepsPlan }]) => keepsPlan || !plannedWhileEmpty);
  let testSchema: TestSchema;
  let handle: DatabaseHandle;
  /** A superuser's session in the schema, auto_explain loaded: the reads run here. */
  let explained: DatabaseHandle;
  let plans: LoggedPlan[] = [];
  let callers: number[];

  beforeAll(async () => {
    testSchema = await createTestSchema('db_connecting_plan');
    handle = await openTestDatabase(testSchema, 1);
    await sql`ALTER TABLE users SET (autovacuum_enabled = false)`.execute(handle.db);
    await sql`ALTER TABLE matches SET (autovacuum_enabled = false)`.execute(handle.db);

    // One session: the functions' plans are kept on it.
    explained = await openExplainedSession(testSchema, (plan) => plans.push(plan));
    if (plannedWhileEmpty) {
      // Known to be empty: where a sequential scan looks cheapest.
      await sql`ANALYZE users, matches, account_restrictions`.execute(handle.db);
      for (const [, read] of readsHere) await read(explained.db, [1, 2, 3]);
    }

    const pairs = await seedMatchedPairs(handle.db, PAIRS);
    callers = pairs.slice(1000, 1000 + CALLERS).map((pair) => pair.userB);
  });

  afterAll(async () => {
    await explained?.close();
    await handle?.close();
    await testSchema?.drop();
  });

  test.each(readsHere)(
    'when %s of a batch are read, then matches and users are read by key, a few rows a user',
    async (_name, read) => {
      plans = [];
      await read(explained.db, callers);
      const scans = plans
        .flatMap((plan) => nodesOf(plan.Plan))
        .filter((node) => node['Relation Name'] === 'matches' || node['Relation Name'] === 'users');
      const rowsRead = rowsReadBy(scans);
      // The statements that read the tables were seen, a function's own included.
      expect(scans).not.toHaveLength(0);
      expect(rowsRead).toBeGreaterThanOrEqual(CALLERS);
      expect(rowsRead).toBeLessThanOrEqual(READ_BOUND);
    },
  );
});
