import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import {
  sendMessageRequest,
  type Ack,
  type ClientToServerEvents,
  type ErrorBody,
  type MessageView,
  type ParsedSendMessageRequest,
  type SendMessageRequest,
  type ServerToClientEvents,
  type SyncRequest,
} from '@mm/contract';

/** What the gateway does with one `message:send`, in the order they arrive. */
export type SendScript =
  | { kind: 'refuse'; error: ErrorBody }
  /** Stores the message but the ack is lost: the connection drops before it is sent. */
  | { kind: 'store-then-drop' };

/**
 * A real Socket.IO server on loopback port 0 that answers the SDK like the gateway does, from a
 * message list of its own: `sync` pages after each `since`, `message:send` stores each `client_id`
 * once with the next seq, and a script may refuse or lose the next sends. Not a mock of the SDK:
 * the ChatClient under test talks to it over a real socket, reconnects included.
 */
export class ScriptedGateway {
  /** Every stored message per match, in seq order; a test may remove one (an expired secret). */
  readonly stored = new Map<number, MessageView[]>();
  /** Every `message:send` received, in order (resends included). */
  readonly sends: SendMessageRequest[] = [];
  /** Every `sync` received, in order. */
  readonly syncs: SyncRequest[] = [];
  /** What to do with the next sends; empty: store and ack. */
  readonly script: SendScript[] = [];
  private nextId = 1;

  private constructor(
    private readonly http: HttpServer,
    readonly io: Server<ClientToServerEvents, ServerToClientEvents>,
    readonly url: string,
  ) {}

  static async start(): Promise<ScriptedGateway> {
    const http = createServer();
    const io = new Server<ClientToServerEvents, ServerToClientEvents>(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const gateway = new ScriptedGateway(
      http,
      io,
      `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    );
    io.on('connection', (socket) => {
      socket.on('sync', (request, ack) => ack(gateway.syncPage(request)));
      socket.on('message:send', (request, ack) => {
        gateway.sends.push(request);
        const step = gateway.script.shift();
        if (step?.kind === 'refuse') return ack({ ok: false, error: step.error });
        const message = gateway.store(sendMessageRequest.parse(request));
        if (step?.kind === 'store-then-drop') return void socket.conn.close();
        ack({ ok: true, message });
      });
    });
    return gateway;
  }

  /** Stores a message (each client_id once, as `append_messages` does) and returns it. */
  store(request: Pick<ParsedSendMessageRequest, 'match_id' | 'client_id' | 'body'>): MessageView {
    const messages = this.stored.get(request.match_id) ?? [];
    this.stored.set(request.match_id, messages);
    const earlier = messages.find((message) => message.client_id === request.client_id);
    if (earlier) return earlier;
    const message: MessageView = {
      id: this.nextId++,
      match_id: request.match_id,
      seq: (messages.at(-1)?.seq ?? 0) + 1,
      sender_id: 1,
      client_id: request.client_id,
      body: request.body,
      deleted: false,
      is_secret: false,
      created_at: new Date(0).toISOString(),
    };
    messages.push(message);
    return message;
  }

  /** Stores a message and pushes it to every socket, as a partner's send would. */
  deliver(matchId: number, body: string): MessageView {
    const message = this.store({ match_id: matchId, client_id: `partner-${this.nextId}`, body });
    this.io.emit('message:new', message);
    return message;
  }

  /** Closes every connection as a lost network would (the clients reconnect by themselves). */
  dropConnections(): void {
    for (const socket of this.io.sockets.sockets.values()) socket.conn.close();
  }

  private syncPage(request: SyncRequest): Ack<{ messages: MessageView[]; has_more: boolean }> {
    this.syncs.push(request);
    const after = Object.entries(request.since).flatMap(([matchId, seq]) =>
      (this.stored.get(Number(matchId)) ?? []).filter((message) => message.seq > seq),
    );
    const limit = request.limit ?? 200;
    return { ok: true, messages: after.slice(0, limit), has_more: after.length > limit };
  }

  async stop(): Promise<void> {
    await this.io.close();
    this.http.closeAllConnections();
  }
}
