// `npm run bench:append`: what one call of the message writer's statement costs, by batch size,
// beside a bare round trip and a one-row INSERT, on the local PostgreSQL. It shows how much of a
// message's database cost is per batch (paid once) and how much per message.
import { sql } from 'kysely';
import { appendMessageBatch } from '@mm/db';
import { createTestSchema, openTestDatabase } from '@mm/db/testing';

const PAIRS = 100;

async function main() {
  const schema = await createTestSchema('append_cost');
  const { db, close } = await openTestDatabase(schema, 1);
  try {
    await sql`INSERT INTO users (id, display_name, verification_status)
              SELECT g, 'u' || g, 'approved' FROM generate_series(1, ${2 * PAIRS}::int) g`.execute(
      db,
    );
    await sql`INSERT INTO matches (user_a, user_b, created_by, expires_at)
              SELECT 2 * g - 1, 2 * g, 2 * g - 1, now() + interval '2 days'
              FROM generate_series(1, ${PAIRS}::int) g`.execute(db);
    let n = 0;
    const time = async (label: string, rounds: number, run: () => Promise<unknown>) => {
      for (let r = 0; r < 20; r++) await run(); // warm-up: connection, plans
      const start = performance.now();
      for (let r = 0; r < rounds; r++) await run();
      const ms = Number(((performance.now() - start) / rounds).toFixed(3));
      return { label, ms_per_call: ms } as {
        label: string;
        ms_per_call: number;
        us_per_message?: number;
      };
    };
    const results = [
      await time('SELECT 1', 500, () => sql`SELECT 1`.execute(db)),
      await time('one-row INSERT', 500, () =>
        sql`INSERT INTO messages (match_id, seq, sender_id, client_id, body)
            VALUES (1, ${1_000_000 + n}, 1, ${`plain-${n++}`}, 'hello')`.execute(db),
      ),
    ];
    for (const size of [1, 10, 50, 200, 500]) {
      const batch = () =>
        Array.from({ length: size }, (_, i) => {
          const pair = (n + i) % PAIRS;
          return { matchId: pair + 1, senderId: 2 * pair + 1, clientId: `c${n++}`, body: 'hello' };
        });
      const result = await time(`append_messages × ${size}`, Math.max(20, 2000 / size), () =>
        appendMessageBatch(db, batch(), 86_400_000),
      );
      results.push({ ...result, us_per_message: Math.round((result.ms_per_call * 1000) / size) });
    }
    console.table(results);
  } finally {
    await close();
    await schema.drop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
