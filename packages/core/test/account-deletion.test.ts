import { sql } from 'kysely';
import { eraseAccount } from '@mm/db';
import { AppError } from '../src/errors';
import { insertMatch, newUser, openDomain, type Domain } from './support/domain';

// One schema for the file: every test makes its own users, so they share nothing else.
let domain: Domain;

beforeAll(async () => {
  domain = await openDomain('account_deletion');
});
afterAll(() => domain?.close());

describe('account deletion racing find-match', () => {
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

describe('admitting a connecting socket', () => {
  it('when a user connects, then they get the ids of their active matches and no others', async () => {
    // Ids rise in this order, and a match's user_a is the lower id: `me` is on both sides.
    const [lower, me, higher, ended] = await Promise.all(
      [1, 2, 3, 4].map(() => newUser(domain.database)),
    );
    const db = domain.database.db;
    const active = [await insertMatch(db, lower!, me!), await insertMatch(db, me!, higher!)];
    await insertMatch(db, me!, ended!, { status: 'unmatched', ended_at: new Date() });
    await insertMatch(db, lower!, higher!); // not theirs

    expect((await domain.services.users.admitConnection(me!)).sort()).toEqual(active.sort());
  });

  it('when a user with no profile yet connects, then they are admitted with no match', async () => {
    expect(await domain.services.users.admitConnection(987_654_321)).toEqual([]);
  });

  it('when many users connect at once (read together in batches), then each gets their own matches and only a deleted account is refused', async () => {
    const users = (
      await Promise.all(Array.from({ length: 12 }, () => newUser(domain.database)))
    ).sort((a, b) => a - b); // a match's user_a is the lower id
    const db = domain.database.db;
    const matchOf = new Map<number, number[]>(users.map((user) => [user, []]));
    for (let i = 0; i + 1 < users.length; i += 2) {
      const id = await insertMatch(db, users[i]!, users[i + 1]!);
      matchOf.get(users[i]!)!.push(id);
      matchOf.get(users[i + 1]!)!.push(id);
    }
    const deleted = users.at(-1)!;
    await domain.services.users.deleteAccount(deleted); // ends its match with users[10]
    matchOf.set(deleted, []);
    matchOf.set(users.at(-2)!, []);

    const answers = await Promise.all(
      [...users, ...users].map((user) =>
        domain.services.users.admitConnection(user).catch((error: AppError) => error.code),
      ),
    );
    expect(answers).toEqual(
      [...users, ...users].map((user) =>
        user === deleted ? 'ACCOUNT_DELETED' : matchOf.get(user),
      ),
    );
  });

  it('when a deleted account connects, then it is refused with ACCOUNT_DELETED', async () => {
    const [leaving, partner] = await Promise.all([1, 2].map(() => newUser(domain.database)));
    await insertMatch(domain.database.db, leaving!, partner!);
    await domain.services.users.deleteAccount(leaving!);

    const refusal = await domain.services.users
      .admitConnection(leaving!)
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AppError);
    expect((refusal as AppError).code).toBe('ACCOUNT_DELETED');
  });
});
