import { ChatClient, ChatError, type ChatClientEvents, type ChatClientOptions } from '../src';
import type { MessageView } from '@mm/contract';
import { ScriptedGateway } from './support/scripted-gateway';

const MATCH = 7;

/**
 * The SDK's ChatClient over a real socket to a Socket.IO server that answers like the gateway
 * (test/support/scripted-gateway.ts): its dedup watermark, its sync paging and its outbox, each
 * in well under a second, beside the multi-process system tests that check them end to end.
 */
describe('ChatClient', () => {
  let gateway: ScriptedGateway;
  const clients: ChatClient[] = [];

  beforeEach(async () => {
    gateway = await ScriptedGateway.start();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await gateway.stop();
  });

  /** A client that reconnects at once after a drop, with what it delivered recorded. */
  function chatClient(options: Partial<ChatClientOptions> = {}) {
    const client = new ChatClient({
      url: gateway.url,
      token: 'a-token',
      socket: { reconnectionDelay: 20, reconnectionDelayMax: 20, randomizationFactor: 0 },
      ...options,
    });
    clients.push(client);
    const delivered: MessageView[] = [];
    client.on('message', (message) => delivered.push(message));
    return { client, delivered, seqs: () => delivered.map((message) => message.seq) };
  }

  /** Resolves at the client's next `event` whose arguments pass `test`. */
  function next<E extends keyof ChatClientEvents>(
    client: ChatClient,
    event: E,
    test: (...args: Parameters<ChatClientEvents[E]>) => boolean = () => true,
  ): Promise<void> {
    return new Promise((resolve) => {
      const listener = ((...args: Parameters<ChatClientEvents[E]>) => {
        if (!test(...args)) return;
        client.off(event, listener);
        resolve();
      }) as ChatClientEvents[E];
      client.on(event, listener);
    });
  }

  const connected = (client: ChatClient) => {
    const ready = next(client, 'ready');
    client.connect();
    return ready;
  };
  const seqReached = (client: ChatClient, seq: number) =>
    next(client, 'message', (message) => message.match_id === MATCH && message.seq === seq);
  const stored = (body: string) => gateway.store({ match_id: MATCH, client_id: body, body });

  it('when live messages arrive out of order and twice, then each is delivered once, at once, and the watermark waits for the gap', async () => {
    const { client, seqs } = chatClient({ lastSeqs: { [MATCH]: 0 } });
    await connected(client);
    const [one, two, three] = [stored('a'), stored('b'), stored('c')];

    const third = seqReached(client, 3);
    gateway.io.emit('message:new', three!);
    await third;
    expect(client.lastSeq(MATCH)).toBe(0);

    for (const message of [one, three, two, one, two]) gateway.io.emit('message:new', message!);
    const fourth = seqReached(client, 4);
    gateway.deliver(MATCH, 'd');
    await fourth;
    expect(seqs()).toEqual([3, 1, 2, 4]);
    expect(client.lastSeq(MATCH)).toBe(4);
  });

  it('when sync leaves out a seq (an expired secret message), then the watermark moves past it and the next sync starts after the last seq held', async () => {
    for (const body of ['a', 'b', 'c', 'd']) stored(body);
    gateway.stored.set(
      MATCH,
      gateway.stored.get(MATCH)!.filter((message) => message.seq !== 3),
    );
    const { client, seqs } = chatClient({ lastSeqs: { [MATCH]: 0 } });
    await connected(client);
    expect(seqs()).toEqual([1, 2, 4]);
    expect(client.lastSeq(MATCH)).toBe(4);

    const fifth = seqReached(client, 5);
    gateway.deliver(MATCH, 'e');
    await fifth;
    expect(client.lastSeq(MATCH)).toBe(5);

    const again = next(client, 'ready');
    gateway.dropConnections();
    await again;
    expect(gateway.syncs.at(-1)!.since).toEqual({ [MATCH]: 5 });
    expect(seqs()).toEqual([1, 2, 4, 5]);
  });

  it('when the server pushes a lifecycle event, then the client relays it under its own name with the payload as sent', async () => {
    const { client } = chatClient();
    await connected(client);
    const relayed: [string, unknown][] = [];
    const record = (name: string) => (event: unknown) => void relayed.push([name, event]);
    client
      .on('ended', record('ended'))
      .on('extended', record('extended'))
      .on('secretChatRequested', record('secretChatRequested'))
      .on('secretChatActive', record('secretChatActive'));
    const ended = { match_id: MATCH, reason: 'unmatched' } as const;
    const extended = { match_id: MATCH, expires_at: new Date(0).toISOString(), extended_count: 1 };
    const secret = { match_id: MATCH, requested_by: 2 };
    const last = next(client, 'ended');

    gateway.io.emit('match:extended', extended);
    gateway.io.emit('secret_chat:requested', secret);
    gateway.io.emit('secret_chat:active', { ...secret, requested_by: 3 });
    gateway.io.emit('match:ended', ended);
    await last; // one socket keeps the server's order: the others came before

    expect(relayed).toEqual([
      ['extended', extended],
      ['secretChatRequested', secret],
      ['secretChatActive', { ...secret, requested_by: 3 }],
      ['ended', ended],
    ]);
  });

  it('when more messages were missed than one sync page holds, then it pages on from the last seq of each page', async () => {
    for (const body of ['a', 'b', 'c', 'd', 'e']) stored(body);
    const { client, seqs } = chatClient({ lastSeqs: { [MATCH]: 0 }, syncPageSize: 2 });
    await connected(client);
    expect(seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(gateway.syncs.map((sync) => sync.since[MATCH])).toEqual([0, 2, 4]);
  });

  it('when a send is refused with RATE_LIMITED, then it goes again with the same client_id and resolves once stored', async () => {
    gateway.script.push({
      kind: 'refuse',
      error: { code: 'RATE_LIMITED', message: 'Slow down.', details: { retry_after: 0 } },
    });
    const { client, seqs } = chatClient();
    await connected(client);

    const message = await client.send(MATCH, 'hello', 'client-1');
    expect(message).toMatchObject({ seq: 1, client_id: 'client-1', body: 'hello' });
    expect(gateway.sends.map((send) => send.client_id)).toEqual(['client-1', 'client-1']);
    expect(client.unacked).toBe(0);
    expect(seqs()).toEqual([1]);
  });

  it('when a send is refused for good, then it rejects with the ChatError and is not sent again', async () => {
    gateway.script.push({
      kind: 'refuse',
      error: { code: 'MATCH_NOT_ACTIVE', message: 'This match is over.' },
    });
    const { client } = chatClient();
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.code));
    await connected(client);

    const refused = await client.send(MATCH, 'hello').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ChatError);
    expect((refused as ChatError).error.code).toBe('MATCH_NOT_ACTIVE');
    expect(errors).toEqual(['MATCH_NOT_ACTIVE']);
    expect(gateway.sends).toHaveLength(1);
    expect(client.unacked).toBe(0);
  });

  it('when the connection drops after the message was stored but before its ack, then the resend on the next connection resolves with the stored message, delivered once', async () => {
    gateway.script.push({ kind: 'store-then-drop' });
    const { client, seqs } = chatClient();
    await connected(client);

    const message = await client.send(MATCH, 'hello', 'client-1');
    expect(message.seq).toBe(1);
    expect(gateway.sends.map((send) => send.client_id)).toEqual(['client-1', 'client-1']);
    expect(gateway.stored.get(MATCH)).toHaveLength(1);
    expect(seqs()).toEqual([1]);
  });

  it('when messages are sent before the client is connected, then they wait in the outbox and go in order once it is', async () => {
    const { client } = chatClient();
    const sent = [client.send(MATCH, 'first'), client.send(MATCH, 'second')];
    expect(client.unacked).toBe(2);
    expect(gateway.sends).toHaveLength(0);

    client.connect();
    const messages = await Promise.all(sent);
    expect(messages.map((message) => [message.seq, message.body])).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
    expect(client.unacked).toBe(0);
  });
});
