import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MessageView } from '@mm/contract';
import { createUser } from '@mm/test-support/chat';
import {
  ChatStream,
  openChatEnd,
  SIDES,
  type ChatEnd,
  type Side,
} from '@mm/test-support/chat-stream';
import { eventually, get } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { SwitchProxy } from '@mm/test-support/realtime';

/**
 * The embedded default's own faults: PGlite runs inside the one process, so the process dying is
 * the database dying too, and its disk is the database's disk. Killed without a word mid-stream and
 * started again on the same data folder (as a supervisor would), it must have kept every message it
 * acked, and the SDK's outbox must get the ones in flight stored exactly once. With its disk full,
 * it must stay up and refuse sends for now, and store them once space is back.
 * docs/operations.md lists the other faults.
 */
const noServices = { DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', DEV_TOKENS: '' };

describe('chaos: the embedded default (one process, PGlite on disk)', () => {
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

/**
 * A small tmpfs of the test's own for the data folder, so the disk can be filled without filling
 * the machine's. Mounting needs root (as the tests run here); elsewhere the test is skipped.
 */
function mountSmallDisk(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'mm-chaos-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { stdio: 'ignore' });
  return dir;
}

const asRoot = process.getuid?.() === 0;

(asRoot ? describe : describe.skip)('chaos: the embedded default with its disk full', () => {
  let disk: string;
  let filler: string;
  let service: RunningProcess | undefined;
  const ends = {} as Record<Side, ChatEnd>;

  beforeAll(() => {
    disk = mountSmallDisk();
    filler = path.join(disk, 'filler');
  });

  afterAll(async () => {
    Object.values(ends).forEach((end) => end.client.close());
    await service?.stop('SIGKILL');
    if (disk) {
      execFileSync('umount', ['-l', disk]);
      rmSync(disk, { recursive: true, force: true });
    }
  });

  /** Writes to the disk until it has no byte left. */
  function fillDisk(): void {
    const fd = openSync(filler, 'w');
    try {
      for (const size of [1 << 20, 4096, 1]) {
        const chunk = Buffer.alloc(size);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  it('when the data folder’s disk fills up mid-stream, then the process stays up and live, sends are refused for now, and once space is freed every send is stored and held once', async () => {
    const env = {
      ...noServices,
      DATA_DIR: path.join(disk, 'data'),
      MESSAGE_RATE_LIMIT: '100000',
    };
    service = await startApp('embedded', env, 60_000);
    const ann = await createUser(service.url, 1, 'Ann');
    const bob = await createUser(service.url, 2, 'Bob');
    const match = await ann.rest.findMatch(ann.id);
    ends.ann = await openChatEnd(service.url, ann, match.id);
    ends.bob = await openChatEnd(service.url, bob, match.id);
    const stream = new ChatStream('disk full', ends, match.id, 50).start();
    await eventually(
      async () => stream.acked.length,
      (n) => n >= 20,
    );

    fillDisk();
    // PostgreSQL's "could not extend file" (53100, disk_full) answers the sends UNAVAILABLE, and
    // the SDK keeps them in its outbox.
    const logged = service.logs.length;
    await eventually(
      async () =>
        service!.logs
          .slice(logged)
          .some((line) => line.includes('"code":"53100"') && line.includes('unavailable')),
      (refused) => refused,
      30_000,
    );
    expect(service.child.exitCode).toBeNull();
    expect((await get(`${service.url}/health/live`)).status).toBe(200);

    rmSync(filler);
    const freedAt = Date.now();
    const probe = stream.send('ann');
    const deliveredMs = await stream.deliveredAfter('ann', probe, freedAt, 30_000);
    stream.stop();
    await stream.settled();

    expect(service.child.exitCode).toBeNull();
    expect(stream.rejected).toEqual([]);
    expect(await stream.missingAfter()).toEqual([]);
    expect(stream.duplicates()).toEqual([]);
    expect(deliveredMs).toBeLessThan(10_000);
    console.log(
      `Embedded default, disk full: first new message delivered ` +
        `${(deliveredMs / 1000).toFixed(2)} s after space was freed; ${stream.acked.length} acked in all.`,
    );
  }, 120_000);
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
