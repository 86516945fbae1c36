// Child of socket-heap.ts: our Socket.IO server (the gateway's options, no handlers), reporting
// its memory on request and writing a heap snapshot, so per-socket costs can be attributed.
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import { createSocketServer } from '@mm/gateway';

const server = createServer();
const io = createSocketServer(server);
// What the gateway does per socket at minimum: the user room and one match room.
io.on('connection', (socket) => void socket.join([`user:${socket.id}`, 'match:1']));

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
