// Child of socket-heap.ts: a Socket.IO server reporting its memory on request and writing a heap
// snapshot, so per-socket costs can be attributed. HEAP_SERVER=bare: the gateway's Socket.IO
// server with no handlers (Socket.IO's own floor). HEAP_SERVER=gateway: the real gateway (handshake,
// handlers, presence, Redis adapter) on the PostgreSQL and Redis given in the environment.
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import { createServices } from '@mm/core';
import { createLogger, domainSettings, connectRedis, loadAppConfig } from '@mm/platform';
import { openDatabase } from '@mm/db';
import { createSocketServer, registerGateway, useRedisAdapter } from '@mm/gateway';

async function main() {
  const server = createServer();
  const io = createSocketServer(server);
  if (process.env.HEAP_SERVER === 'gateway') {
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
  } else {
    // What the gateway does per socket at minimum: the user room and one match room.
    io.on('connection', (socket) => void socket.join([`user:${socket.id}`, 'match:1']));
  }

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
