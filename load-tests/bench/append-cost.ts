// `npm run bench:append`: what one call of the message writer's statement costs, by batch size,
// beside a bare round trip and a one-row INSERT, on the local PostgreSQL. It shows how much of a
// message's database cost is per batch (paid once) and how much per message, in wall time and in
// the CPU of the PostgreSQL backend that ran it. Then the same statement as two pods' writers call
// it at a steady rate (3,000 msg/s unless APPEND_RATE says otherwise), batches formed the way
// MessageWriter forms them (one lane: whatever arrived while the last batch was written).
import { readFileSync } from 'node:fs';
import { sql, type Kysely } from 'kysely';
import { appendMessageBatch, type BatchMessage, type Database } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';

const PAIRS = 100;
const SECRET_TTL_MS = 86_400_000;
const RATE = Number(process.env.APPEND_RATE ?? 3000);
const PACED_SECONDS = Number(process.env.APPEND_SECONDS ?? 10);

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

let n = 0;
/** `size` new messages, each from the first person of one of the pairs, in turn. */
function nextBatch(size: number): BatchMessage[] {
  return Array.from({ length: size }, (_, i) => {
    const pair = (n + i) % PAIRS;
    return { matchId: pair + 1, senderId: 2 * pair + 1, clientId: `c${n++}`, body: 'hello' };
  });
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
  const append = (size: number) => () => appendMessageBatch(db, nextBatch(size), SECRET_TTL_MS);
  // `messages`: per call, when the call stores messages (the CPU is then per 1,000 messages).
  // `flush`: false runs the case with synchronous_commit off (a diagnostic, never a setting to use).
  const cases: {
    label: string;
    rounds: number;
    run: () => unknown;
    messages?: number;
    flush?: false;
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
    // batch's cost the flush is.
    {
      label: 'append_messages × 10, no commit flush',
      rounds: 200,
      run: append(10),
      messages: 10,
      flush: false,
    },
  ];
  const samples = cases.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  for (let pass = 0; pass < 3; pass++) {
    for (const [i, { rounds, run, messages, flush }] of cases.entries()) {
      if (flush === false) await sql`SET synchronous_commit = off`.execute(db);
      for (let r = 0; r < 20; r++) await run(); // warm-up: connection, plans
      const cpu = cpuMsOf(pid);
      const start = performance.now();
      for (let r = 0; r < rounds; r++) await run();
      samples[i]!.ms.push((performance.now() - start) / rounds);
      samples[i]!.cpu.push(((cpuMsOf(pid) - cpu) * 1000) / (rounds * (messages ?? 1)));
      if (flush === false) await sql`RESET synchronous_commit`.execute(db);
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
 * Two pods, one connection each, `RATE` messages a second between them for `PACED_SECONDS`: what
 * the backends spend per 1,000 stored messages at that rate, and the batches it makes.
 */
async function paced(schema: TestSchema) {
  const pods = await Promise.all([openTestDatabase(schema, 1), openTestDatabase(schema, 1)]);
  try {
    const writers = await Promise.all(
      pods.map(async ({ db }) => ({
        db,
        pid: await backendPid(db),
        queue: [] as BatchMessage[],
        writing: undefined as Promise<void> | undefined,
      })),
    );
    let calls = 0;
    // As MessageWriter's lane: one call in flight; what arrives meanwhile is the next batch.
    const drain = async (writer: (typeof writers)[number]) => {
      while (writer.queue.length > 0) {
        calls++;
        await appendMessageBatch(writer.db, writer.queue.splice(0, 500), SECRET_TTL_MS);
      }
      writer.writing = undefined;
    };
    const tickMs = 5;
    const perTick = (RATE * tickMs) / 1000;
    const run = async (seconds: number) => {
      const start = performance.now();
      for (let t = 0; t < (seconds * 1000) / tickMs; t++) {
        const wait = start + t * tickMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        // Each message goes to its match's pod, as each match's sends go to one gateway's writer.
        for (const message of nextBatch(perTick)) {
          const writer = writers[message.matchId % writers.length]!;
          writer.queue.push(message);
          writer.writing ??= drain(writer);
        }
      }
      await Promise.all(writers.map((writer) => writer.writing));
      return (performance.now() - start) / 1000;
    };
    await run(2); // warm-up
    const cpu = writers.map((w) => cpuMsOf(w.pid));
    calls = 0;
    const seconds = await run(PACED_SECONDS);
    const used = writers.reduce((sum, w, i) => sum + cpuMsOf(w.pid) - cpu[i]!, 0);
    const messages = RATE * PACED_SECONDS;
    return {
      rate: RATE,
      seconds: Number(seconds.toFixed(1)),
      messages_per_call: Number((messages / calls).toFixed(1)),
      pg_backend_cpu_ms_per_1000: Number(((used * 1000) / messages).toFixed(1)),
    };
  } finally {
    await Promise.all(pods.map((pod) => pod.close()));
  }
}

async function main() {
  const schema = await createTestSchema('append_cost');
  try {
    const { db, close } = await openTestDatabase(schema, 1);
    await sql`INSERT INTO users (id, display_name, verification_status)
              SELECT g, 'u' || g, 'approved' FROM generate_series(1, ${2 * PAIRS}::int) g`.execute(
      db,
    );
    await sql`INSERT INTO matches (user_a, user_b, created_by, expires_at)
              SELECT 2 * g - 1, 2 * g, 2 * g - 1, now() + interval '2 days'
              FROM generate_series(1, ${PAIRS}::int) g`.execute(db);
    try {
      console.table(await byBatchSize(db));
    } finally {
      await close();
    }
    console.table([await paced(schema)]);
  } finally {
    await schema.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
