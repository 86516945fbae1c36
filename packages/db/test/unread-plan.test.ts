// The base tsconfig only loads Node's types; this file also needs jest's globals.
/// <reference types="jest" />
import { sql } from 'kysely';
import type { DatabaseHandle } from '../src/connection';
import { listMessagesAfter } from '../src/queries/chat-sync.queries';
import { countUnreadMessages, countUnreadTotals } from '../src/queries/read-receipts.queries';
import {
  createTestSchema,
  openTestDatabase,
  seedMatchedPairs,
  type TestSchema,
} from '../src/testing';
import { nodesOf, openExplainedSession, rowsReadBy, type LoggedPlan } from './plans';

/**
 * A match's unread count stops at the cap (docs/design.md §4.8): behind a backlog far larger than
 * the cap, the count reads about as many messages as it takes to find `cap` of the partner's, never
 * the backlog. `unread:total` counts every busy user once a second, so a count that grew with the
 * chat grew the database's load with it. The count runs inside `unread_in_match`; EXPLAIN does not
 * show a function's statements, so its plans are read as it runs them, from auto_explain (sent to
 * this client as notices). Rows are asserted; timings never are. A sync page behind the same
 * backlog is read the same way, by the index in seq order, and stops after the page.
 */
const CAP = 100;
/** The partner's messages and the reader's, alternating: twice the cap's worth of rows to read. */
const BACKLOG = 6_000;
/** Rows a capped walk may read: the cap's worth of the partner's, the reader's between, a few more. */
const READ_BOUND = 2 * CAP + 10;

describe('the unread count and a sync page behind a backlog far past them', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;
  /** A superuser's session in the schema, auto_explain loaded: the counts run here. */
  let explained: DatabaseHandle;
  let plans: LoggedPlan[] = [];
  let match: { matchId: number; userA: number; userB: number };

  beforeAll(async () => {
    testSchema = await createTestSchema('db_unread_plan');
    handle = await openTestDatabase(testSchema, 1);
    [match] = (await seedMatchedPairs(handle.db, 1)) as [typeof match];
    // Never analyzed, as a chat's table is between autovacuum's passes.
    await sql`ALTER TABLE messages SET (autovacuum_enabled = false)`.execute(handle.db);
    await sql`
      INSERT INTO messages (match_id, seq, sender_id, client_id, body)
      SELECT ${match.matchId}, g, CASE WHEN g % 2 = 0 THEN ${match.userA}::bigint
        ELSE ${match.userB}::bigint END, 'c' || g, 'hello'
      FROM generate_series(1, ${BACKLOG}::int) AS g`.execute(handle.db);
    await sql`UPDATE matches SET message_count = ${BACKLOG}`.execute(handle.db);

    explained = await openExplainedSession(testSchema, (plan) => plans.push(plan));
  });

  afterAll(async () => {
    await explained?.close();
    await handle?.close();
    await testSchema?.drop();
  });

  /** Runs a read on the explained session; returns its result and what it read of messages. */
  async function readOf<T>(read: (db: DatabaseHandle['db']) => Promise<T>) {
    plans = [];
    const result = await read(explained.db);
    const messageScans = plans
      .flatMap((plan) => nodesOf(plan.Plan))
      // A bitmap index scan names its index but not the table.
      .filter(
        (node) =>
          node['Relation Name'] === 'messages' || node['Index Name']?.startsWith('messages_'),
      );
    return { result, messageScans, rowsRead: rowsReadBy(messageScans) };
  }

  it('when a user syncs a page from the start of the backlog, then only about a page is read', async () => {
    const limit = 50;
    const { result, messageScans, rowsRead } = await readOf((db) =>
      listMessagesAfter(db, [
        { userId: match.userA, cursors: [{ matchId: match.matchId, afterSeq: 0 }], limit },
      ]),
    );
    expect(result[0]!.map((message) => Number(message.seq))).toEqual(
      Array.from({ length: limit }, (_, i) => i + 1),
    );
    expect(messageScans.map((node) => node['Node Type'])).toEqual(['Index Scan']);
    expect(rowsRead).toBeLessThanOrEqual(limit + 10);
  });

  it.each([
    [
      'a user total',
      (db: DatabaseHandle['db']) =>
        countUnreadTotals(db, { userIds: [match.userA], cap: CAP }).then((totals) =>
          totals.get(match.userA),
        ),
    ],
    [
      'the recipient of a message',
      (db: DatabaseHandle['db']) =>
        countUnreadTotals(db, {
          userIds: [],
          messagesFrom: [{ matchId: match.matchId, senderId: match.userB }],
          cap: CAP,
        }).then((totals) => totals.get(match.userA)),
    ],
    [
      'a match of the list',
      (db: DatabaseHandle['db']) =>
        countUnreadMessages(db, match.userA, [match.matchId], CAP).then((counts) =>
          counts.get(match.matchId),
        ),
    ],
  ])(
    'when %s is counted, then it is the cap, read from about the cap of rows through the index',
    async (_label, read) => {
      const { result, messageScans, rowsRead } = await readOf(read);
      expect(result).toBe(CAP);
      expect(messageScans.map((node) => node['Node Type'])).toEqual(['Index Scan']);
      expect(rowsRead).toBeLessThanOrEqual(READ_BOUND);
    },
  );
});
