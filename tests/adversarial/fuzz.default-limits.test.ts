import { connectSocket } from '@mm/client';
import type { Ack, MessageView } from '@mm/contract';
import { JWT_SECRET } from '@mm/test-support/realtime';
import {
  embeddedSystem,
  expectUnbroken,
  fuzzSize,
  fuzzSystem,
  useEmbeddedProcess,
} from '@mm/test-support/fuzz/harness';
import { fuzzSeed } from '@mm/test-support/fuzz/random';

/**
 * The adversarial suite once more with the default REST and message rate limits, against the
 * embedded default as a real process: most REST cases come from one user, and one user bursts
 * messages, so the limits must answer (429, RATE_LIMITED) and nothing else may break.
 */
const size = fuzzSize();
const seed = fuzzSeed(20261131);

describe('the embedded default under the fuzzer with the default rate limits', () => {
  const embedded = useEmbeddedProcess({ JWT_SECRET });

  it(`when ${size.limitedRest} REST requests (mostly one user's) and ${size.limitedEmits} emits plus a burst of messages hit it, then the limits answer 429 and RATE_LIMITED, never a 5xx or INTERNAL, and a bystander pair chats unaffected`, async () => {
    const { url } = embedded();
    const burstAcks: Ack<{ message: MessageView }>[] = [];
    const counts = { rest: size.limitedRest, emits: size.limitedEmits };
    const outcome = await fuzzSystem(embeddedSystem(embedded(), JWT_SECRET), seed, counts, {
      hotActor: true,
      bystanderIntervalMs: 200,
      during: async ({ socketActors, socketMatchIds }) => {
        const socket = connectSocket({ url, token: socketActors[0]!.token });
        await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
        try {
          for (let i = 0; i < 100; i++) {
            burstAcks.push(
              await socket.timeout(15_000).emitWithAck('message:send', {
                match_id: socketMatchIds[0]!,
                client_id: `burst-${i}`,
                body: `burst ${i}`,
              }),
            );
          }
        } finally {
          socket.disconnect();
        }
      },
    });
    expectUnbroken(outcome, counts);
    expect(outcome.report.statuses.get(429)).toBeGreaterThan(0);
    const burstCodes = burstAcks.map((ack) => (ack.ok ? 'ok' : ack.error.code));
    expect(burstCodes).toContain('RATE_LIMITED');
    expect(burstCodes.filter((code) => code !== 'ok' && code !== 'RATE_LIMITED')).toEqual([]);
    expect(outcome.report.ackCodes.get('INTERNAL') ?? 0).toBe(0);
  }, 1_800_000);
});
