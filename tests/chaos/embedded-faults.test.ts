import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MessageView } from '@mm/client';
import { createUser } from '@mm/test-support/chat';
import {
  ChatStream,
  openChatEnd,
  SIDES,
  type ChatEnd,
  type Side,
} from '@mm/test-support/chat-stream';
import { eventually } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { SwitchProxy } from '@mm/test-support/realtime';

/**
 * The embedded default's own fault: PGlite runs inside the one process, so the process dying is
 * the database dying too. Killed without a word mid-stream and started again on the same data
 * folder (as a supervisor would), it must have kept every message it acked, and the SDK's outbox
 * must get the ones in flight stored exactly once. docs/operations.md lists the other faults.
 */
describe('chaos: the embedded default (one process, PGlite on disk)', () => {
  const noServices = { DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', DEV_TOKENS: '' };
  let env: Record<string, string>;
  let dataDir: string;
  let service: RunningProcess;
  /** Clients keep one address while the process behind it is replaced. */
  let route: SwitchProxy;
  const ends = {} as Record<Side, ChatEnd>;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mm-chaos-embedded-'));
    env = { ...noServices, DATA_DIR: dataDir, MESSAGE_RATE_LIMIT: '100000' };
    service = await startApp('embedded', env, 60_000);
    route = await new SwitchProxy(service.port).listen();
  }, 90_000);

  afterAll(async () => {
    Object.values(ends).forEach((end) => end.client.close());
    await service?.stop('SIGKILL');
    await route?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when the process is killed (-9) mid-stream and started again on its data folder, then every acked message is still stored, held once by the partner, and chat resumes', async () => {
    const ann = await createUser(route.url, 1, 'Ann');
    const bob = await createUser(route.url, 2, 'Bob');
    const match = await ann.rest.findMatch(ann.id);
    expect(match.partner_id).toBe(bob.id);
    ends.ann = await openChatEnd(route.url, ann, match.id);
    ends.bob = await openChatEnd(route.url, bob, match.id);

    const stream = new ChatStream('embedded kill', ends, match.id, 50).start();
    await eventually(
      async () => Math.min(stream.ackedFrom('ann'), stream.ackedFrom('bob')),
      (n) => n >= 10,
    );
    const victim = service;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    stream.stop(); // what was in flight stays in the outboxes
    const ackedBeforeKill = stream.acked.map(({ message }) => message);
    expect(await victim.exited).toBeNull();

    service = await startApp('embedded', env, 60_000);
    route.target = service.port;
    const restartMs = Date.now() - killedAt;
    const probes = { ann: stream.send('ann'), bob: stream.send('bob') };
    const delivered = await Promise.all(
      SIDES.map((from) => stream.deliveredAfter(from, probes[from], killedAt, 60_000)),
    );
    await stream.settled();

    expect(stream.rejected).toEqual([]);
    expect(await stream.missingAfter()).toEqual([]);
    expect(stream.duplicates()).toEqual([]);
    // Durable: what was acked before the kill is stored, and nothing is stored twice.
    const stored = await history(ann.rest, match.id);
    expect(new Set(stored.map((m) => m.client_id)).size).toBe(stored.length);
    for (const message of ackedBeforeKill) expect(stored).toContainEqual(message);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));

    console.log(
      `Embedded default, kill -9 mid-stream: ${ackedBeforeKill.length} acked before the kill, ` +
        `process back in ${(restartMs / 1000).toFixed(1)} s, first new message delivered ` +
        `${(Math.max(...delivered) / 1000).toFixed(1)} s after the kill.`,
    );
  }, 180_000);
});

/** The whole history of a match, oldest first, page by page. */
async function history(rest: ChatEnd['user']['rest'], matchId: number): Promise<MessageView[]> {
  const messages: MessageView[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await rest.history(matchId, { limit: 100, ...(before && { before }) });
    messages.push(...page.messages);
    if (!page.has_more || page.next_cursor === null) break;
    before = page.next_cursor;
  }
  return messages.sort((a, b) => a.seq - b.seq);
}
