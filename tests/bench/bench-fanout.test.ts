// `npm run bench` at smoke size, its fan-out step alone (`BENCH_ONLY=fanout`): the bench's own
// process, as a developer starts it, on four real gateways per adapter mode. It checks the
// result's shape and counts, never its times.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FanoutMode, FanoutResult } from '../../load-tests/bench/fanout';

const ROOT = path.resolve(__dirname, '../..');

/** Runs the bench with `env` and resolves with the result it wrote (the file is removed). */
function runBench(env: Record<string, string>): Promise<Record<string, unknown>> {
  const child = spawn(
    process.execPath,
    ['--single-threaded-gc', '--conditions=source', '--import', 'tsx', 'load-tests/bench/run.ts'],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const file = /written to (\S+)/.exec(stderr)?.[1];
      if (code !== 0 || !file)
        return reject(new Error(`the bench exited with ${code}:\n${stderr}`));
      const result = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      rmSync(file);
      resolve(result);
    });
  });
}

describe('npm run bench, the fan-out step at smoke size', () => {
  let fanout: FanoutResult;
  let settings: Record<string, unknown>;

  beforeAll(async () => {
    const result = await runBench({ BENCH_SIZE: 'smoke', BENCH_ONLY: 'fanout' });
    fanout = result.fanout as FanoutResult;
    settings = result.settings as Record<string, unknown>;
  }, 300_000);

  const modeShape = (adapter: string) => ({
    adapter,
    sent: expect.any(Number),
    adapter_messages_received: [0, 1, 2, 3].map(() => expect.any(Number)),
    ratio_to_sent: [0, 1, 2, 3].map(() => expect.any(Number)),
    ratio_to_sent_mean: expect.any(Number),
    user_room_broadcasts_per_message: expect.any(Number),
    steps: [
      expect.objectContaining({
        latency: expect.objectContaining({
          p50_ms: expect.any(Number),
          p99_ms: expect.any(Number),
        }),
        adapter_messages_received: [0, 1, 2, 3].map(() => expect.any(Number)),
        cpu_ms_per_1k_messages: { gateways: expect.any(Number), redis: expect.any(Number) },
      }),
    ],
  });

  it('reports both adapter modes on four gateways, each pair across two of them', () => {
    expect(settings.only).toEqual(['fanout']);
    expect(fanout).toMatchObject({
      gateways: 4,
      pairs: 12,
      rate_per_s: 400,
      classic: modeShape('classic'),
      sharded: modeShape('sharded'),
      sharded_over_classic: expect.any(Number),
    });
  });

  it('sends the same messages in both modes, delivered once each to the partner only', () => {
    expect(fanout.classic.sent).toBe(fanout.rate_per_s * fanout.seconds);
    expect(fanout.sharded.sent).toBe(fanout.classic.sent);
    for (const mode of [fanout.classic, fanout.sharded]) {
      for (const step of mode.steps) expect(step.duplicated + step.misrouted).toBe(0);
    }
  });

  it('has each gateway read fewer adapter messages with the sharded adapter than any with the classic one', () => {
    const received = (mode: FanoutMode) => mode.adapter_messages_received;
    // Classic: every gateway reads every acked message's broadcast to its match room.
    expect(Math.min(...received(fanout.classic))).toBeGreaterThanOrEqual(fanout.classic.acked);
    // Sharded: exactly the two gateways of its pair read it, and a gateway holds half the match
    // rooms and a quarter of the recipients: about 3/4 of the messages at most.
    expect(received(fanout.sharded).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(
      2 * fanout.sharded.acked,
    );
    expect(Math.max(...received(fanout.sharded))).toBeLessThan(
      Math.min(...received(fanout.classic)),
    );
  });
});
