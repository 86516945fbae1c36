// The systems the bench compares ours with, started as child processes by systems.ts. The ceiling:
// a bare Socket.IO relay on the same Redis adapter, with no auth check, no persistence and no seq.
// With RELAY_STORE=postgres, what a team writes first: the same relay storing each message with
// one INSERT (a pool of 10, the unique client_id its only guarantee) before it acks and relays.
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { Server, type Socket } from 'socket.io';

interface Payload {
  match_id: number;
  client_id: string;
  body: string;
}
type Stored = Payload & { id: number; seq: number; sender_id: number; created_at: string };
type Ack = (reply: { ok: true; message: Stored } | { ok: false; error: { code: string } }) => void;

const redisUrl = process.env.REDIS_URL!;
const key = `${process.env.REDIS_PREFIX}:socket.io`;
const server = createServer();
const io = new Server(server, { maxHttpBufferSize: 100_000 });
io.adapter(createAdapter(new Redis(redisUrl), new Redis(redisUrl), { key }));

let seq = 0;
const stored = (payload: Payload, senderId: number, id: number, at: Date): Stored => ({
  ...payload,
  id,
  seq: id,
  sender_id: senderId,
  created_at: at.toISOString(),
});

/** One INSERT per message into `naive_messages` (systems.ts creates it in DATABASE_SCHEMA). */
function inPostgres(): (payload: Payload, senderId: number) => Promise<Stored> {
  const pool = new Pool({
    connectionString: process.env.DATABASE_URL,
    max: 10,
    options: `-c search_path=${process.env.DATABASE_SCHEMA}`,
  });
  pool.on('error', () => undefined);
  return async (payload, senderId) => {
    const { rows } = await pool.query<{ id: string; created_at: Date }>(
      `INSERT INTO naive_messages (match_id, sender_id, client_id, body) VALUES ($1, $2, $3, $4)
       RETURNING id, created_at`,
      [payload.match_id, senderId, payload.client_id, payload.body],
    );
    return stored(payload, senderId, Number(rows[0]!.id), rows[0]!.created_at);
  };
}

function relay(socket: Socket, message: Stored, ack?: Ack) {
  socket.to(`match:${message.match_id}`).emit('message:new', message);
  if (typeof ack === 'function') ack({ ok: true, message });
}

const persist = process.env.RELAY_STORE === 'postgres' ? inPostgres() : undefined;

io.on('connection', (socket) => {
  const { user_id, match_ids } = socket.handshake.auth as { user_id: number; match_ids: number[] };
  void socket.join([`user:${user_id}`, ...match_ids.map((id) => `match:${id}`)]);
  socket.on('message:send', (payload: Payload, ack?: Ack) => {
    // The bare relay answers in the same tick, as a relay without storage would.
    if (!persist) return relay(socket, stored(payload, user_id, ++seq, new Date()), ack);
    persist(payload, user_id).then(
      (message) => relay(socket, message, ack),
      () => {
        if (typeof ack === 'function') ack({ ok: false, error: { code: 'UNAVAILABLE' } });
      },
    );
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ msg: 'relay listening', port }));
});
process.on('SIGTERM', () => io.close(() => process.exit(0)));
