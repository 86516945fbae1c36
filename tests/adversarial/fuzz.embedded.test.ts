import { JWT_SECRET } from '@mm/test-support/realtime';
import {
  embeddedSystem,
  expectUnbroken,
  fuzzSize,
  fuzzSystem,
  LIFTED_LIMITS,
  useEmbeddedProcess,
} from '@mm/test-support/fuzz/harness';
import { fuzzSeed } from '@mm/test-support/fuzz/random';

/**
 * The adversarial suite against the embedded default as users run it: `apps/embedded` as a real
 * process on PGlite, the REST and message rate limits lifted. See tests/README.md for the sizes
 * and how to replay a seed.
 */
const size = fuzzSize();
const seed = fuzzSeed(20261129);

describe('the embedded default under the fuzzer', () => {
  const embedded = useEmbeddedProcess({ JWT_SECRET, ...LIFTED_LIMITS });

  it(`when ${size.rest} REST requests and ${size.emits} socket emits derived from the contract hit it, then none answers 5xx or INTERNAL, /health/live answers throughout, the process lives and a bystander pair chats unaffected`, async () => {
    const outcome = await fuzzSystem(embeddedSystem(embedded(), JWT_SECRET), seed, size);
    expectUnbroken(outcome, size);
  }, 1_800_000);
});
