import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { z } from 'zod';
import { matchId, type Ack } from '@mm/contract';
import { AppError, type Logger, type Services } from '@mm/core';
import {
  clientEvent,
  eventListeners,
  mountEvents,
  type AnyEventSpec,
} from '../src/events/event-table';
import { InFlight } from '../src/in-flight';
import { createSocketServer, type GatewayServer } from '../src/socket-server';

/**
 * The event table's mounting on one real Socket.IO server (no database: the handlers here are the
 * table's own test events). The guarantees every declared event gets from it.
 */
describe('mounting the event table', () => {
  let http: HttpServer;
  let io: GatewayServer;
  let client: ClientSocket;
  const ran: unknown[] = [];
  const logged: { level: string; msg: string }[] = [];
  const logger = {
    error: (_: object, msg: string) => logged.push({ level: 'error', msg }),
    warn: (_: object, msg: string) => logged.push({ level: 'warn', msg }),
  } as unknown as Logger;

  const payload = z.object({ match_id: matchId });
  const table: AnyEventSpec[] = [
    clientEvent({
      event: 'read',
      summary: 'echoes the parsed payload and the caller',
      payload,
      ack: z.object({ match_id: z.number(), user_id: z.number() }),
      rate: 'none',
      handler: ({ payload, userId }) => {
        ran.push(payload);
        return { match_id: payload.match_id, user_id: userId, secret: 'not in the ack schema' };
      },
    }),
    clientEvent({
      event: 'sync',
      summary: 'fails the way the payload says',
      payload: z.object({ fail: z.enum(['domain', 'bug', 'ack']) }),
      ack: z.object({ done: z.boolean() }),
      rate: 'none',
      handler: ({ payload }) => {
        if (payload.fail === 'domain') throw new AppError('NOT_FOUND', 'No such match.');
        if (payload.fail === 'bug') throw new Error('connection string postgres://secret');
        return { done: 'yes' } as never;
      },
    }),
    clientEvent({
      event: 'typing',
      summary: 'volatile, no ack',
      payload,
      rate: 'volatile',
      handler: ({ payload }) => {
        ran.push(payload);
      },
    }),
  ];

  beforeAll(async () => {
    http = createServer();
    io = createSocketServer(http);
    io.use((socket, next) => {
      socket.data.userId = 7;
      next();
    });
    const listeners = eventListeners(table, {
      services: {} as Services,
      logger,
      inFlight: new InFlight(),
    });
    io.on('connection', (socket) => mountEvents(socket, listeners));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    client = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  });

  afterAll(async () => {
    client?.close();
    await io?.close();
  });

  beforeEach(() => {
    ran.length = 0;
    logged.length = 0;
  });

  const ask = (event: string, ...args: unknown[]) =>
    client.emitWithAck(event, ...args) as Promise<Ack<Record<string, unknown>>>;

  it('when a payload parses, then the handler gets it parsed with the caller, and the ack carries only what its schema names', async () => {
    expect(await ask('read', { match_id: '12' })).toEqual({ ok: true, match_id: 12, user_id: 7 });
    expect(ran).toEqual([{ match_id: 12 }]);
  });

  it('when a payload is malformed or missing, then it is acked VALIDATION_FAILED naming the field and the handler does not run', async () => {
    const bad = await ask('read', { match_id: 'one' });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED', details: { fields: [{ field: 'match_id' }] } },
    });
    expect(await ask('read')).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(ran).toEqual([]);
  });

  it('when a handler throws a domain error, then the ack carries it', async () => {
    expect(await ask('sync', { fail: 'domain' })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No such match.' },
    });
    expect(logged).toEqual([]);
  });

  it('when a handler fails unexpectedly or answers outside its ack schema, then the ack is INTERNAL without the cause, and it is logged', async () => {
    const answers = [await ask('sync', { fail: 'bug' }), await ask('sync', { fail: 'ack' })];
    for (const answer of answers) {
      expect(answer).toEqual({
        ok: false,
        error: { code: 'INTERNAL', message: 'Something went wrong on our side.' },
      });
    }
    expect(logged.map((entry) => entry.level)).toEqual(['error', 'error']);
  });

  it('when an event comes without an ack callback, then it is carried out and nothing breaks', async () => {
    client.emit('read', { match_id: 3 });
    client.emit('sync', { fail: 'bug' });
    // The socket still answers afterwards, in order.
    expect(await ask('read', { match_id: 4 })).toMatchObject({ ok: true, match_id: 4 });
    expect(ran).toEqual([{ match_id: 3 }, { match_id: 4 }]);
  });

  it('when a volatile event is malformed, then it is dropped; when it parses, then it runs', async () => {
    client.emit('typing', { match_id: 'x' });
    client.emit('typing', { match_id: 5 });
    expect(await ask('read', { match_id: 6 })).toMatchObject({ ok: true });
    expect(ran).toEqual([{ match_id: 5 }, { match_id: 6 }]);
  });

  it('when an event is not in the table, then it is acked UNKNOWN_EVENT', async () => {
    expect(await ask('no:such:event', { any: 'thing' })).toEqual({
      ok: false,
      error: {
        code: 'UNKNOWN_EVENT',
        message: 'No such event.',
        details: { event: 'no:such:event' },
      },
    });
  });

  it('when several sockets are connected, then they share the same listeners, built once', async () => {
    const { port } = http.address() as AddressInfo;
    const second = ioClient(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    try {
      await new Promise<void>((resolve) => second.once('connect', () => resolve()));
      const sockets = [...io.sockets.sockets.values()];
      expect(sockets).toHaveLength(2);
      const [a, b] = sockets.map((socket) => [
        ...socket.listenersAny(),
        ...table.flatMap((spec) => socket.listeners(spec.event)),
      ]);
      expect(a).toHaveLength(1 + table.length);
      a!.forEach((listener, i) => expect(b![i]).toBe(listener));
    } finally {
      second.close();
    }
  });
});
