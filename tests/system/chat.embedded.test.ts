import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { RestClient, sendMessage } from '@mm/client';
import { connect, createUser, nextEvent } from '@mm/test-support/chat';
import { npmStartNodeFlags, startApp, type RunningProcess } from '@mm/test-support/processes';

/** The embedded default as `npm start` runs it: one process, PGlite on disk, no Postgres or Redis. */
describe('the embedded default (one process, PGlite)', () => {
  let dataDir: string;
  let service: RunningProcess | undefined;
  const noServices = { DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', DEV_TOKENS: '' };
  // With the node flags `npm start` gives it (the WebAssembly tier, docs/design.md §1).
  const start = () =>
    startApp('embedded', { ...noServices, DATA_DIR: dataDir }, 60_000, npmStartNodeFlags());

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mm-embedded-'));
  });

  afterAll(async () => {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('when two users match and chat, then the message is delivered, stored, and kept across a restart', async () => {
    service = await start();
    const [ann, bob] = await Promise.all([
      createUser(service.url, 1, 'Ann'),
      createUser(service.url, 2, 'Bob'),
    ]);
    const annSocket = await connect(service.url, ann);
    const bobSocket = await connect(service.url, bob);

    const bobHearsMatch = nextEvent(bobSocket, 'match:new');
    const match = await ann.rest.findMatch(ann.id);
    await bobHearsMatch;
    const delivered = nextEvent(bobSocket, 'message:new');
    const acked = await sendMessage(annSocket, {
      match_id: match.id,
      client_id: 'c-1',
      body: 'hello',
    });
    expect(await delivered).toEqual(acked);
    annSocket.disconnect();
    bobSocket.disconnect();

    expect(await service.stop()).toBe(0);
    service = await start();
    const bobAfterRestart = new RestClient(service.url, () => bob.token);
    const page = await bobAfterRestart.history(match.id);
    expect(page.messages).toEqual([acked]);
  }, 120_000);

  it('when a photo is uploaded, then PGlite stores it and it comes back as the same image', async () => {
    service ??= await start();
    const ann = await createUser(service.url, 3, 'Ann');
    const photo = await sharp({
      create: { width: 64, height: 48, channels: 3, background: '#3366cc' },
    })
      .png()
      .toBuffer();
    const upload = await fetch(`${service.url}/api/users/me/photo`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ann.token}`, 'content-type': 'image/png' },
      body: new Uint8Array(photo),
    });
    expect(upload.status).toBe(200);
    const own = await fetch(`${service.url}/api/users/me/photo`, {
      headers: { authorization: `Bearer ${ann.token}` },
    });
    expect(own.status).toBe(200);
    const meta = await sharp(Buffer.from(await own.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 64, height: 48 });
  }, 120_000);
});
