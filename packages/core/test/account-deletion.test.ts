import { sql } from 'kysely';
import { eraseAccount } from '@mm/db';
import { AppError } from '../src/errors';
import { newUser, openDomain, type Domain } from './support/domain';

describe('account deletion racing find-match', () => {
  let domain: Domain;

  beforeAll(async () => {
    domain = await openDomain('account_deletion');
  });
  afterAll(() => domain?.close());

  it('when a find-match picks a user whose deletion is not committed yet, then it waits for it and pairs nobody', async () => {
    const city = 'Race City';
    const seeker = await newUser(domain.database, { city });
    const leaving = await newUser(domain.database, { city });

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let erasingPid!: number;
    const pidKnown = new Promise<void>((resolve) => {
      void domain.database.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
        erasingPid = rows[0]!.pid;
        await eraseAccount(trx, leaving);
        resolve();
        await gate; // holds the erased row, uncommitted
      });
    });
    await pidKnown;

    // The seeker still sees the leaving user as a candidate (the deletion is not committed)...
    const finding = domain.services.matches.findMatch(seeker, { user_id: seeker, city });
    const outcome = finding.then(
      () => 'matched',
      (error: unknown) => (error instanceof AppError ? error.code : String(error)),
    );
    let settled = false;
    void outcome.then(() => (settled = true));
    // ...and pairing waits on the leaving user's row until the deletion commits.
    while (!settled) {
      const { rows } = await sql<{ waiting: number }>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
        WHERE ${erasingPid}::int = ANY(pg_blocking_pids(pid))`.execute(domain.database.db);
      if (rows[0]!.waiting > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    release();

    expect(await outcome).toBe('NO_CANDIDATES');
    const matches = await domain.database.db
      .selectFrom('matches')
      .select('id')
      .where((eb) => eb.or([eb('user_a', '=', leaving), eb('user_b', '=', leaving)]))
      .execute();
    expect(matches).toEqual([]);
  });
});
