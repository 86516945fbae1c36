import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { eventually, get } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { JWT_SECRET, scaledEnv } from '@mm/test-support/realtime';
import {
  expectUnbroken,
  FUZZ_PHOTO_MAX_BYTES,
  fuzzSize,
  fuzzSystem,
  LIFTED_LIMITS,
} from '@mm/test-support/fuzz/harness';
import { fuzzSeed } from '@mm/test-support/fuzz/random';

/**
 * The adversarial suite against the scaled system: one API process and two gateway processes on
 * Postgres and Redis, the REST and message rate limits lifted. The fuzzer's sockets are spread
 * over both gateways, and the bystander pair spans them. See tests/README.md.
 */
const size = fuzzSize();
const seed = fuzzSeed(20261130);

describe('the scaled system under the fuzzer', () => {
  let schema: TestSchema;
  let processes: RunningProcess[];

  beforeAll(async () => {
    schema = await createTestSchema('fuzz_scaled');
    const env = scaledEnv(schema, 'fuzz', {
      PHOTO_MAX_BYTES: FUZZ_PHOTO_MAX_BYTES,
      ...LIFTED_LIMITS,
    });
    processes = await Promise.all([
      startApp('api', env, 60_000),
      startApp('gateway', env, 60_000),
      startApp('gateway', env, 60_000),
    ]);
    for (const process of processes) {
      await eventually(
        () => get(`${process.url}/health/ready`),
        (answer) => answer.status === 200,
        30_000,
      );
    }
  }, 120_000);

  afterAll(async () => {
    const codes = await Promise.all((processes ?? []).map((p) => p.stop()));
    await schema?.drop();
    expect(codes).toEqual([0, 0, 0]);
  });

  it(`when ${size.rest} REST requests and ${size.emits} socket emits derived from the contract hit it, then none answers 5xx or INTERNAL, /health/live answers throughout on every process, all three live and a bystander pair across the gateways chats unaffected`, async () => {
    const [api, gatewayA, gatewayB] = processes as [RunningProcess, RunningProcess, RunningProcess];
    const outcome = await fuzzSystem(
      {
        processes,
        apiUrl: api.url,
        socketUrls: [gatewayA.url, gatewayB.url],
        bystanderUrls: [gatewayA.url, gatewayB.url],
        jwtSecret: JWT_SECRET,
      },
      seed,
      size,
    );
    expectUnbroken(outcome, size);
  }, 1_800_000);
});
