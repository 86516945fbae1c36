import {
  createTestSchema,
  openTestDatabase,
  seedMatchedPairs,
  type TestSchema,
} from '@mm/db/testing';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { JWT_SECRET, scaledEnv } from '@mm/test-support/realtime';
import { prepareStorm, type Storm } from '@mm/test-support/reconnect-storm';

/**
 * The reconnect storm of `npm run bench:storm`, small: 200 SDK clients on one of two gateways,
 * which is killed; they all come back on the other, caught up, and every message their partners
 * sent meanwhile reaches them exactly once. No timing is asserted here; the bench times it.
 */
describe('a reconnect storm', () => {
  let schema: TestSchema;
  let gateways: RunningProcess[] = [];
  let storm: Storm | undefined;

  beforeAll(async () => {
    schema = await createTestSchema('storm');
    const env = scaledEnv(schema, 'storm');
    gateways = await Promise.all([startApp('gateway', env), startApp('gateway', env)]);
  }, 60_000);

  afterAll(async () => {
    await storm?.close();
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await schema?.drop();
  });

  it('when a gateway holding 200 clients is killed, then every client is ready on the other, and every message sent meanwhile arrives exactly once', async () => {
    const handle = await openTestDatabase(schema, 1);
    const pairs = await seedMatchedPairs(handle.db, 200).finally(() => handle.close());
    const [doomed, survivor] = gateways;
    storm = await prepareStorm({
      doomed: doomed!,
      survivors: [survivor!],
      pairs,
      jwtSecret: JWT_SECRET,
      senders: 20,
      messagesPerSender: 5,
    });

    const result = await storm.unleash();
    expect(await doomed!.exited).toBeNull(); // killed by the signal
    expect(result).toMatchObject({ clients: 200, sent: 100, lost: 0, duplicated: 0 });
  }, 120_000);
});
