// The bench's load generator (load-tests/bench): its histogram's percentiles, and that it counts
// deliveries right against a real bare relay, a misrouted and a doubled one included.
import { socketSpec } from '../../load-tests/bench/chat-load';
import { startLoadGenerator, type LoadGenerator } from '../../load-tests/bench/generator';
import { LatencyHistogram } from '../../load-tests/bench/histogram';
import { startBareRelay, type StartedSystem } from '../../load-tests/bench/systems';

describe('LatencyHistogram', () => {
  it('gives nearest-rank percentiles within its bucket width of the exact ones', () => {
    const histogram = new LatencyHistogram();
    // 0.001, 0.002, ... 10,000 ms: every bucket width the bench meets, no randomness.
    const samples = Array.from({ length: 100_000 }, (_, i) => ((i + 1) / 100_000) ** 3 * 10_000);
    samples.forEach((ms) => histogram.record(ms));
    expect(histogram.count).toBe(samples.length);
    for (const p of [1, 50, 95, 99, 99.9, 100]) {
      const exact = samples[Math.ceil((p / 100) * samples.length) - 1]!;
      const measured = histogram.percentile(p);
      expect(measured).toBeGreaterThanOrEqual(exact - 0.001);
      expect(measured).toBeLessThanOrEqual(exact * 1.008 + 0.001);
    }
    expect(histogram.summary().max_ms).toBe(10_000);
  });

  it('reads 0 when empty', () => {
    expect(new LatencyHistogram().summary()).toEqual({
      p50_ms: 0,
      p95_ms: 0,
      p99_ms: 0,
      max_ms: 0,
    });
  });
});

describe('the load generator against a bare relay', () => {
  let relay: StartedSystem;
  let generator: LoadGenerator;

  beforeAll(async () => {
    [relay, generator] = await Promise.all([startBareRelay(), startLoadGenerator([])]);
  });
  afterAll(async () => {
    generator?.stop();
    await relay?.stop();
  });

  it('delivers every message to the partner exactly once and measures its own CPU', async () => {
    const pairs = await relay.participants(5);
    await generator.connectPairs(
      'pairs',
      pairs.map(([a, b]) => [socketSpec(a), socketSpec(b)]),
    );
    const step = await generator.runStep('pairs', 100, 1, 'ok');
    await generator.disconnect('pairs');

    expect(step).toMatchObject({
      sent: 100,
      acked: 100,
      delivered: 100,
      lost: 0,
      duplicated: 0,
      misrouted: 0,
      unacked: 0,
      errors: 0,
    });
    expect(step.latency.p99_ms).toBeGreaterThan(0);
    expect(step.ack_latency.p99_ms).toBeGreaterThan(0);
    expect(step.generator.cpu_ms).toBeGreaterThan(0);
  });

  it('counts a message that reaches someone other than the partner as misrouted', async () => {
    const [first, second] = await relay.participants(2);
    // Partners by the generator's reckoning, but in different matches on the relay.
    await generator.connectPairs('crossed', [
      [socketSpec(first![0]), socketSpec(second![1])],
      [socketSpec(second![0]), socketSpec(first![1])],
    ]);
    const step = await generator.runStep('crossed', 40, 1, 'x');
    await generator.disconnect('crossed');

    expect(step.sent).toBe(40);
    expect(step.misrouted).toBe(40);
    expect(step.lost).toBe(0);
  });

  it('counts a second delivery of a message as duplicated', async () => {
    const [first, second] = await relay.participants(2);
    // B of the first match twice: what A of that match sends reaches both of its sockets.
    await generator.connectPairs('doubled', [
      [socketSpec(first![0]), socketSpec(first![1])],
      [socketSpec(second![0]), socketSpec(first![1])],
    ]);
    const step = await generator.runStep('doubled', 40, 1, 'd');
    await generator.disconnect('doubled');

    // 10 of the 40 are A's of the first match, each delivered to both B sockets.
    expect(step.duplicated).toBeGreaterThanOrEqual(10);
  });
});
