// Child of socket-heap.ts: a Socket.IO server reporting its memory on request and writing a heap
// snapshot, so per-socket costs can be attributed. HEAP_SERVER=stock: Socket.IO as it comes, with
// the gateway's frame limit and timers but none of its trims (Socket.IO's own floor).
// HEAP_SERVER=bare: the gateway's Socket.IO server with no handlers. HEAP_SERVER=gateway: the real gateway (handshake,
// handlers, presence, Redis adapter) on the PostgreSQL and Redis given in the environment.
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import { createServices } from '@mm/core';
import { createLogger, domainSettings, connectRedis, loadAppConfig } from '@mm/platform';
import { openDatabase } from '@mm/db';
import { Server, type Socket } from 'socket.io';
import { createSocketServer, MAX_FRAME_BYTES, registerGateway, useRedisAdapter } from '@mm/gateway';

/** What the gateway does per socket at minimum: the user room and one match room. */
const joinLikeTheGateway = (socket: Socket) => void socket.join([`user:${socket.id}`, 'match:1']);

/** Serves the kind of server HEAP_SERVER names on `server`. */
async function serve(server: ReturnType<typeof createServer>): Promise<void> {
  if (process.env.HEAP_SERVER === 'stock') {
    new Server(server, {
      maxHttpBufferSize: MAX_FRAME_BYTES,
      pingTimeout: 20_000,
      pingInterval: 25_000,
    }).on('connection', joinLikeTheGateway);
    return;
  }
  const io = createSocketServer(server);
  if (process.env.HEAP_SERVER !== 'gateway') {
    io.on('connection', joinLikeTheGateway);
    return;
  }
  const config = loadAppConfig('scaled');
  const logger = createLogger({ level: 'warn', name: 'heap-gateway' });
  const database = await openDatabase(config.database);
  useRedisAdapter(io, config.redis!, logger);
  const services = createServices({
    db: database.db,
    broadcaster: io,
    ...domainSettings(config),
    redis: connectRedis(config.redis!.url, 'heap-gateway', logger),
    logger,
  });
  registerGateway(io, { services, logger });
}

async function main() {
  const server = createServer();
  await serve(server);

  const collect = () => (globalThis as { gc?: () => void }).gc?.();
  process.on('message', (request: { kind: 'memory' } | { kind: 'snapshot'; file: string }) => {
    collect();
    if (request.kind === 'snapshot') writeHeapSnapshot(request.file);
    const { rss, heapUsed } = process.memoryUsage();
    process.send!({ rss, heapUsed });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send!({ port: typeof address === 'object' && address ? address.port : 0 });
  });
}

void main();
