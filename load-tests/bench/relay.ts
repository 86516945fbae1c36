// The ceiling the bench compares against: a bare Socket.IO relay on the same Redis adapter, with
// no auth check, no persistence and no seq. Started as a child process by run.ts.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const redisUrl = process.env.REDIS_URL!;
const key = `${process.env.REDIS_PREFIX}:socket.io`;
const server = createServer();
const io = new Server(server, { maxHttpBufferSize: 100_000 });
io.adapter(createAdapter(new Redis(redisUrl), new Redis(redisUrl), { key }));

let seq = 0;
io.on('connection', (socket) => {
  const { user_id, match_ids } = socket.handshake.auth as { user_id: number; match_ids: number[] };
  void socket.join([`user:${user_id}`, ...match_ids.map((id) => `match:${id}`)]);
  socket.on(
    'message:send',
    (payload: { match_id: number; client_id: string; body: string }, ack) => {
      const message = {
        ...payload,
        id: ++seq,
        seq,
        sender_id: user_id,
        created_at: new Date().toISOString(),
      };
      socket.to(`match:${payload.match_id}`).emit('message:new', message);
      if (typeof ack === 'function') ack({ ok: true, message });
    },
  );
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ msg: 'relay listening', port }));
});
process.on('SIGTERM', () => io.close(() => process.exit(0)));
