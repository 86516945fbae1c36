// The base tsconfig only loads Node's types; this file also needs jest's globals.
/// <reference types="jest" />
import { sql, type KyselyPlugin, type RawNode } from 'kysely';
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

/**
 * The reads a storm of reconnecting users batches (docs/design.md §5, "A pod's death"), on tables
 * just filled and never analyzed, as right after a seed or a bulk load: each user's matches and
 * partners are found by key, so a batch of 50 users reads a few rows each, never every active
 * match for each of them (what a join on `user_a = id OR user_b = id` was planned as without
 * statistics). The plan's rows are asserted; its timings never are.
 */
const PAIRS = 5_000;
const CALLERS = 50;
/** Rows one batch may read from matches and users: a few per user, far below one table's size. */
const READ_BOUND = 20 * CALLERS;

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/** Runs the query a function sends as EXPLAIN ANALYZE and keeps the plan it answered. */
function explaining() {
  const plans: PlanNode[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: ({ node }) => {
      const raw = node as unknown as RawNode;
      const [first, ...rest] = raw.sqlFragments;
      return {
        ...raw,
        sqlFragments: [`EXPLAIN (ANALYZE, FORMAT JSON) ${first}`, ...rest],
      } as unknown as typeof node;
    },
    transformResult: async ({ result }) => {
      const [row] = result.rows as { 'QUERY PLAN': { Plan: PlanNode }[] }[];
      plans.push(row!['QUERY PLAN'][0]!.Plan);
      return { ...result, rows: [] };
    },
  };
  return { plugin, plans };
}

describe('the batched reads of connecting users, on tables never analyzed', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;
  let callers: number[];

  beforeAll(async () => {
    testSchema = await createTestSchema('db_connecting_plan');
    handle = await openTestDatabase(testSchema, 1);
    await sql`ALTER TABLE users SET (autovacuum_enabled = false)`.execute(handle.db);
    await sql`ALTER TABLE matches SET (autovacuum_enabled = false)`.execute(handle.db);
    const pairs = await seedMatchedPairs(handle.db, PAIRS);
    callers = pairs.slice(1000, 1000 + CALLERS).map((pair) => pair.userB);
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  type Read = (db: DatabaseHandle['db'], userIds: number[]) => Promise<unknown>;
  const reads: [string, Read][] = [
    ['the standing and match rooms', findConnectingUsers],
    ['the partners and when each was last seen', listActivePartnersLastSeen],
    ['the unread totals', (db, userIds) => countUnreadTotals(db, { userIds, cap: 99 })],
    [
      'the unread totals with the partners',
      (db, userIds) => listConnectingViews(db, { userIds, cap: 99 }),
    ],
  ];
  test.each(reads)(
    'when %s of a batch are read, then matches and users are read by key, a few rows a user',
    async (_name, read) => {
      const { plugin, plans } = explaining();
      await read(handle.db.withPlugin(plugin), callers);
      expect(plans).toHaveLength(1);
      const rowsRead = nodesOf(plans[0]!)
        .filter((node) => node['Relation Name'] === 'matches' || node['Relation Name'] === 'users')
        .reduce(
          (sum, node) =>
            sum +
            (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops'],
          0,
        );
      expect(rowsRead).toBeLessThanOrEqual(READ_BOUND);
    },
  );
});
