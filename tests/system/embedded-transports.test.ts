import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { sendMessage, type ChatSocket } from '@mm/client';
import type { MessageView } from '@mm/contract';
import { createUser } from '@mm/test-support/chat';
import { startApp, type RunningProcess } from '@mm/test-support/processes';

/**
 * The embedded default as `npm start` runs it, reached as any client on the internet could: curl
 * and a stock socket.io-client with its default transports (long-polling first, then the upgrade).
 */
describe('the embedded default over long-polling', () => {
  let dataDir: string;
  let service: RunningProcess;
  const noServices = { DATABASE_URL: '', REDIS_URL: '', JWT_SECRET: '', DEV_TOKENS: '' };
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'mm-embedded-polling-'));
    service = await startApp('embedded', { ...noServices, DATA_DIR: dataDir }, 60_000);
  }, 90_000);

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const alive = async () => {
    expect(service.child.exitCode).toBeNull();
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
  };

  it('when a client opens a polling session and polls it with its sid (the curl repro), then both are answered by Socket.IO and the process lives on', async () => {
    const handshake = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).toBe(200);
    const sid = /"sid":"([^"]+)"/.exec(await handshake.text())?.[1];
    expect(sid).toEqual(expect.any(String));

    // The namespace connect without a token, so that the poll has something to answer at once.
    const base = `${service.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    const post = await fetch(base, { method: 'POST', body: '40' });
    expect(post.status).toBe(200);
    await post.text();
    const poll = await fetch(base);
    expect(poll.status).toBe(200);
    expect(await poll.text()).toMatch(/^44.*UNAUTHENTICATED/);
    const unknown = await fetch(`${service.url}/socket.io/?EIO=4&transport=polling&sid=nosuch`);
    expect(unknown.status).toBe(400);
    await unknown.text();
    await alive();
  });

  it('when two stock socket.io-clients with default transports connect, then they upgrade to WebSocket and chat', async () => {
    const [ann, bob] = await Promise.all([
      createUser(service.url, 1, 'Ann'),
      createUser(service.url, 2, 'Bob'),
    ]);
    const connect = (token: string) => {
      const socket = io(service.url, { auth: { token }, reconnection: false });
      sockets.push(socket);
      const upgraded = new Promise<string>((resolve, reject) => {
        socket.io.on('open', () => {
          expect(socket.io.engine.transport.name).toBe('polling');
          socket.io.engine.once('upgrade', (transport: { name: string }) =>
            resolve(transport.name),
          );
        });
        socket.once('connect_error', reject);
      });
      return { socket, upgraded };
    };
    const annConnection = connect(ann.token);
    const bobConnection = connect(bob.token);
    expect(await annConnection.upgraded).toBe('websocket');
    expect(await bobConnection.upgraded).toBe('websocket');

    const match = await ann.rest.findMatch(ann.id);
    const delivered = new Promise<MessageView>((resolve) =>
      bobConnection.socket.once('message:new', resolve),
    );
    // A stock client: the SDK's helper only adds the ack's typing.
    const acked = await sendMessage(annConnection.socket as ChatSocket, {
      match_id: match.id,
      client_id: 'polling-1',
      body: 'hello over polling',
    });
    expect(acked).toMatchObject({ match_id: match.id, body: 'hello over polling' });
    expect(await delivered).toEqual(acked);
    await alive();
  });
});
