// `npm run bench:append`: what one call of the message writer's statement costs, by batch size,
// beside a bare round trip and a one-row INSERT, on the local PostgreSQL. It shows how much of a
// message's database cost is per batch (paid once) and how much per message, in wall time and in
// the CPU of the PostgreSQL backend that ran it. Then the same statement as two pods' writers call
// it at a steady rate (3,000 msg/s unless APPEND_RATE says otherwise) through MessageWriter itself
// (one lane), once for each least interval between its calls (APPEND_INTERVALS_MS).
//
// Beside the statement itself, what a stored message sets off in PostgreSQL: its push (the same
// statement upserts an outbox row for a recipient with a registered device, none for one without), and
// the unread totals the gateway counts for a batch's recipients (UnreadTotals: since the cap and
// the interval, at most one count a second per pod, each match counted up to 100 messages). APPEND_CASES (a regular expression) runs only the cases whose label matches.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { UNREAD_COUNT_CAP } from '@mm/contract';
import { appendMessageBatch, countUnreadTotals, type BatchMessage, type Database } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';
import { MessageWriter } from '@mm/core';
import { LatencyHistogram } from './histogram';

const PAIRS = 100;
/**
 * The pairs, `PAIRS` of each kind: match ids and user ids follow from the group (`pairOf`). The
 * first person of a pair writes; the second is the recipient.
 */
const GROUPS = {
  /** Recipients without a registered device: their messages enqueue no push. */
  plain: 0,
  /** Recipients with one device registered: each batch upserts their outbox row. */
  device: 1,
  /** Recipients with `UNREAD_DEPTH` unread messages each, never read (as in `npm run bench`). */
  unread: 2,
  /** Recipients with nothing unread. */
  read: 3,
} as const;
const UNREAD_DEPTH = Number(process.env.APPEND_UNREAD_DEPTH ?? 300);
const CASES = new RegExp(process.env.APPEND_CASES ?? '');
const SECRET_TTL_MS = 86_400_000;
const RATE = Number(process.env.APPEND_RATE ?? 3000);
const PACED_SECONDS = Number(process.env.APPEND_SECONDS ?? 10);
/** The writers' `minIntervalMs` values the paced part compares (MESSAGE_WRITE_INTERVAL_MS). */
const INTERVALS_MS = (process.env.APPEND_INTERVALS_MS ?? '0,2,5,10').split(',').map(Number);

/**
 * CPU time a process has used so far, in ms: /proc/<pid>/schedstat counts it in nanoseconds (the
 * utime and stime of /proc/<pid>/stat only in 10 ms ticks). PostgreSQL runs on this machine.
 */
function cpuMsOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

async function backendPid(db: Kysely<Database>): Promise<number> {
  const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(db);
  return rows[0]!.pid;
}

/** Pair `i` of a group: its match and its writer (the recipient is `senderId + 1`). */
function pairOf(group: number, i: number) {
  const pair = group * PAIRS + (i % PAIRS);
  return { matchId: pair + 1, senderId: 2 * pair + 1 };
}

let n = 0;
/** `size` new messages of a group, each from the first person of one of its pairs, in turn. */
function nextBatch(size: number, group: number = GROUPS.plain): BatchMessage[] {
  return Array.from({ length: size }, (_, i) => ({
    ...pairOf(group, n + i),
    clientId: `c${n++}`,
    body: 'hello',
  }));
}

/** What the gateway counts after a batch of `size` messages of `group`: its recipients' totals. */
function countUnreadAfter(db: Kysely<Database>, size: number, group: number) {
  const messagesFrom = Array.from({ length: size }, (_, i) => pairOf(group, n + i));
  n += size;
  return countUnreadTotals(db, { userIds: [], messagesFrom, cap: UNREAD_COUNT_CAP });
}

interface Row {
  label: string;
  ms_per_call: number;
  us_per_message?: number;
  /** CPU of the PostgreSQL backend per 1,000 messages (per 1,000 calls for the first two rows). */
  pg_cpu_ms_per_1000?: number;
}

/** The median of three or more samples. */
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/**
 * Each case in turn, three passes, the median of each: on a machine others share, a burst of their
 * work then lands in one pass of every case rather than in every pass of one.
 */
async function byBatchSize(db: Kysely<Database>): Promise<Row[]> {
  const pid = await backendPid(db);
  const append =
    (size: number, group: number = GROUPS.plain) =>
    () =>
      appendMessageBatch(db, nextBatch(size, group), SECRET_TTL_MS);
  // `messages`: per call, when the call stores messages (the CPU is then per 1,000 messages).
  // `before`, `after`: run around the case's passes, not timed (a diagnostic's settings).
  const cases: {
    label: string;
    rounds: number;
    run: () => unknown;
    messages?: number;
    before?: RawBuilder<unknown>;
    after?: RawBuilder<unknown>;
  }[] = [
    { label: 'SELECT 1', rounds: 500, run: () => sql`SELECT 1`.execute(db) },
    {
      label: 'one-row INSERT',
      rounds: 500,
      run: () =>
        sql`INSERT INTO messages (match_id, seq, sender_id, client_id, body)
            VALUES (1, ${1_000_000 + n}, 1, ${`plain-${n++}`}, 'hello')`.execute(db),
    },
    ...[1, 3, 10, 50, 200, 500].map((size) => ({
      label: `append_messages × ${size}`,
      rounds: Math.max(20, 2000 / size),
      run: append(size),
      messages: size,
    })),
    // The same call without waiting for the commit's WAL flush (fdatasync): what share of a small
    // batch's cost the flush is (never a setting to use).
    {
      label: 'append_messages × 10, no commit flush',
      rounds: 200,
      run: append(10),
      messages: 10,
      before: sql`SET synchronous_commit = off`,
      after: sql`RESET synchronous_commit`,
    },
    // The push: with nothing to enqueue (above), and with a device to push to.
    ...[10, 50].map((size) => ({
      label: `append_messages × ${size}, recipients have a device`,
      rounds: 2000 / size,
      run: append(size, GROUPS.device),
      messages: size,
    })),
    // The gateway's count after a batch, CPU per 1,000 messages at one count per batch of 10.
    ...(['unread', 'read'] as const).map((group) => ({
      label:
        group === 'unread'
          ? `unread totals of × 10's recipients, ${UNREAD_DEPTH} unread each`
          : "unread totals of × 10's recipients, none unread",
      rounds: 200,
      run: () => countUnreadAfter(db, 10, GROUPS[group]),
      messages: 10,
    })),
  ].filter(({ label }) => CASES.test(label));
  const samples = cases.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  for (let pass = 0; pass < 3; pass++) {
    for (const [i, { rounds, run, messages, before, after }] of cases.entries()) {
      await before?.execute(db);
      for (let r = 0; r < 20; r++) await run(); // warm-up: connection, plans
      const cpu = cpuMsOf(pid);
      const start = performance.now();
      for (let r = 0; r < rounds; r++) await run();
      samples[i]!.ms.push((performance.now() - start) / rounds);
      samples[i]!.cpu.push(((cpuMsOf(pid) - cpu) * 1000) / (rounds * (messages ?? 1)));
      await after?.execute(db);
    }
  }
  return cases.map(({ label, messages }, i) => {
    const ms = median(samples[i]!.ms);
    return {
      label,
      ms_per_call: Number(ms.toFixed(3)),
      ...(messages ? { us_per_message: Math.round((ms * 1000) / messages) } : {}),
      pg_cpu_ms_per_1000: Number(median(samples[i]!.cpu).toFixed(1)),
    };
  });
}

/**
 * Two pods, one connection and one `MessageWriter` each (one lane, as the gateway runs it), `RATE`
 * messages a second between them for `PACED_SECONDS`, spread evenly over time, to the pairs of
 * `group`, each writer with `minIntervalMs` between its calls: what the backends spend per 1,000
 * stored messages at that rate, the batches the writers make, and what the wait costs a send (from
 * `append` to its result).
 */
async function paced(schema: TestSchema, group: number, minIntervalMs: number) {
  const pods = await Promise.all([openTestDatabase(schema, 1), openTestDatabase(schema, 1)]);
  try {
    let calls = 0;
    const writers = await Promise.all(
      pods.map(async ({ db }) => ({
        pid: await backendPid(db),
        writer: new MessageWriter(db, {
          maxBatch: 500,
          lanes: 1,
          minIntervalMs,
          secretTtlMs: SECRET_TTL_MS,
          onBatch: () => calls++,
        }),
      })),
    );
    let latencies = new LatencyHistogram();
    const run = async (seconds: number) => {
      const start = performance.now();
      const sends: Promise<unknown>[] = [];
      let sent = 0;
      for (let elapsed = 0; elapsed < seconds * 1000; elapsed = performance.now() - start) {
        const due = Math.floor((RATE * elapsed) / 1000) - sent;
        // Each message goes to its match's pod, as each match's sends go to one gateway's writer.
        for (const message of nextBatch(due, group)) {
          const at = performance.now();
          const { writer } = writers[message.matchId % writers.length]!;
          sends.push(writer.append(message).then(() => latencies.record(performance.now() - at)));
        }
        sent += due;
        await sleep(1);
      }
      await Promise.all(sends);
      return sent;
    };
    await run(2); // warm-up
    latencies = new LatencyHistogram();
    const cpu = writers.map((w) => cpuMsOf(w.pid));
    calls = 0;
    const messages = await run(PACED_SECONDS);
    const used = writers.reduce((sum, w, i) => sum + cpuMsOf(w.pid) - cpu[i]!, 0);
    return {
      recipients: group === GROUPS.device ? 'have a device' : 'no device',
      rate: RATE,
      interval_ms: minIntervalMs,
      messages_per_call: Number((messages / calls).toFixed(1)),
      pg_backend_cpu_ms_per_1000: Number(((used * 1000) / messages).toFixed(1)),
      send_p50_ms: latencies.summary().p50_ms,
      send_p99_ms: latencies.summary().p99_ms,
    };
  } finally {
    await Promise.all(pods.map((pod) => pod.close()));
  }
}

async function main() {
  const schema = await createTestSchema('append_cost');
  try {
    const { db, close } = await openTestDatabase(schema, 1);
    const pairs = Object.keys(GROUPS).length * PAIRS;
    await sql`INSERT INTO users (id, display_name, verification_status)
              SELECT g, 'u' || g, 'approved' FROM generate_series(1, ${2 * pairs}::int) g`.execute(
      db,
    );
    await sql`INSERT INTO matches (user_a, user_b, created_by, expires_at)
              SELECT 2 * g - 1, 2 * g, 2 * g - 1, now() + interval '2 days'
              FROM generate_series(1, ${pairs}::int) g`.execute(db);
    const [device, unread] = [GROUPS.device, GROUPS.unread].map((group) => ({
      first: group * PAIRS + 1,
      last: (group + 1) * PAIRS,
    }));
    await sql`INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)
              SELECT 2 * g, 'https://push.invalid/' || g, 'p256dh', 'auth'
              FROM generate_series(${device!.first}::int, ${device!.last}::int) g`.execute(db);
    await sql`INSERT INTO messages (match_id, seq, sender_id, client_id, body)
              SELECT g, s, 2 * g - 1, 'unread-' || s, 'hello'
              FROM generate_series(${unread!.first}::int, ${unread!.last}::int) g,
                generate_series(1, ${UNREAD_DEPTH}::int) s`.execute(db);
    await sql`UPDATE matches SET message_count = ${UNREAD_DEPTH}, a_message_count = ${UNREAD_DEPTH}
              WHERE id BETWEEN ${unread!.first} AND ${unread!.last}`.execute(db);
    await sql`ANALYZE`.execute(db);
    try {
      console.table(await byBatchSize(db));
    } finally {
      await close();
    }
    if (process.env.APPEND_SECONDS !== '0') {
      const rows = [];
      for (const interval of INTERVALS_MS) rows.push(await paced(schema, GROUPS.plain, interval));
      rows.push(await paced(schema, GROUPS.device, INTERVALS_MS[0]!));
      console.table(rows);
    }
  } finally {
    await schema.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
