import { ChatClient, type ChatClientOptions } from '../src';
import type { MessageView } from '../src/contract';
import { FakeSocket } from './support/fake-socket';

const MATCH = 7;
const ACK_TIMEOUT_MS = 1_000;
const GAP_DELAY_MS = 500;

const message = (seq: number, overrides: Partial<MessageView> = {}): MessageView => ({
  id: seq,
  match_id: MATCH,
  seq,
  sender_id: 2,
  client_id: `partner-${seq}`,
  body: `message ${seq}`,
  is_secret: false,
  created_at: new Date(0).toISOString(),
  ...overrides,
});

/** Lets the client's promise chains run (a sync's answer, a send's ack) at the current fake time. */
const settle = () => jest.advanceTimersByTimeAsync(0);

/**
 * ChatClient against an in-memory socket (test/support/fake-socket.ts) the test answers turn by
 * turn, on jest's fake timers: the outbox, the seq watermark and deduplication at the edges that
 * a real server hardly ever produces on cue (acks lost at a given point, seqs crossing, secret
 * messages purged between a live event and the sync that follows it).
 */
describe('ChatClient over a scripted socket', () => {
  let socket: FakeSocket;
  let client: ChatClient;
  let delivered: MessageView[];
  const seqs = () => delivered.map((m) => m.seq);

  beforeEach(() => {
    jest.useFakeTimers();
    socket = new FakeSocket();
  });

  afterEach(() => {
    client.close();
    jest.useRealTimers();
  });

  function create(options: Partial<ChatClientOptions> = {}): ChatClient {
    client = new ChatClient({
      url: 'http://gateway.invalid',
      token: 'a-token',
      ackTimeoutMs: ACK_TIMEOUT_MS,
      gapSyncDelayMs: GAP_DELAY_MS,
      syncNeededSpreadMs: 0,
      lastSeqs: { [MATCH]: 0 },
      createSocket: () => socket.asSocket(),
      ...options,
    });
    delivered = [];
    client.on('message', (m) => delivered.push(m));
    return client;
  }

  /** Answers the pending `sync` with these messages (the last page). */
  async function answerSync(messages: MessageView[] = []): Promise<void> {
    socket.pendingSync().answer({ ok: true, messages, has_more: false });
    await settle();
  }

  /** Connects and answers the first sync: the client is ready. */
  async function connected(options: Partial<ChatClientOptions> = {}): Promise<ChatClient> {
    create(options).connect();
    await answerSync();
    return client;
  }

  const sentIds = () => socket.sends().map((send) => send.payload.client_id);
  const ackStored = (index: number, seq: number) => {
    const send = socket.sends()[index]!;
    const { client_id, body } = send.payload;
    send.answer({ ok: true, message: message(seq, { client_id, body, sender_id: 1 }) });
  };
  /** Tracks a promise: `state()` says whether it is pending, resolved or rejected. */
  function track<T>(promise: Promise<T>) {
    let state: 'pending' | 'resolved' | 'rejected' = 'pending';
    promise.then(
      () => (state = 'resolved'),
      () => (state = 'rejected'),
    );
    return () => state;
  }

  describe('follow', () => {
    it('when called again with a higher seq, then the watermark moves up; with a lower one, it stays', async () => {
      create();
      client.follow(MATCH); // as when the match list arrives
      client.follow(MATCH, 5); // then its history
      client.follow(MATCH, 2);
      expect(client.lastSeq(MATCH)).toBe(5);

      client.connect();
      expect(socket.pendingSync().payload.since).toEqual({ [MATCH]: 5 });
      await answerSync([]);
      socket.push('message:new', message(4));
      expect(seqs()).toEqual([]);
    });

    it('when the higher seq reaches a message held above a gap, then the watermark runs on through it', async () => {
      await connected({ lastSeqs: { [MATCH]: 1 } });
      socket.push('message:new', message(4));
      client.follow(MATCH, 3);
      expect(client.lastSeq(MATCH)).toBe(4);
    });
  });

  describe('pause and resume', () => {
    it('when paused with a send unacked, then it stays queued (pending) with later sends, and resume syncs, then sends them in order', async () => {
      await connected();
      const disconnects: string[] = [];
      client.on('disconnected', (reason) => disconnects.push(reason));
      const first = track(client.send(MATCH, 'a', 'client-a'));

      client.pause();
      const second = track(client.send(MATCH, 'b', 'client-b'));
      await jest.advanceTimersByTimeAsync(60_000);
      expect(client.paused).toBe(true);
      expect(client.connected).toBe(false);
      expect(disconnects).toEqual(['io client disconnect']);
      expect(socket.connects).toBe(1); // nothing reconnected by itself
      expect(sentIds()).toEqual(['client-a']);
      expect(socket.emittedOffline).toEqual([]);
      expect([first(), second()]).toEqual(['pending', 'pending']);
      expect(client.unacked).toBe(2);

      client.resume();
      expect(client.paused).toBe(false);
      await answerSync([message(1)]);
      expect(sentIds()).toEqual(['client-a', 'client-a', 'client-b']);
      ackStored(1, 2);
      ackStored(2, 3);
      await settle();
      expect([first(), second()]).toEqual(['resolved', 'resolved']);
      expect(seqs()).toEqual([1, 2, 3]);
    });

    it('when paused while the first sync is answered, then nothing is sent and no ready is told until resumed', async () => {
      create();
      const ready: string[] = [];
      client.on('ready', () => ready.push('ready'));
      const sent = track(client.send(MATCH, 'a', 'client-a'));
      client.connect();
      const sync = socket.pendingSync();
      client.pause();
      sync.answer({ ok: true, messages: [], has_more: false }); // the answer was on its way
      await settle();
      expect(sentIds()).toEqual([]);
      expect(ready).toEqual([]);

      client.resume();
      await answerSync();
      expect(sentIds()).toEqual(['client-a']);
      expect(ready).toEqual(['ready']);
      ackStored(0, 1);
      await settle();
      expect(sent()).toBe('resolved');
    });

    it('when a paused client is closed, then the outbox is rejected, later sends reject, and resume throws', async () => {
      await connected();
      const sent = client.send(MATCH, 'a').catch((error: unknown) => error);
      client.pause();
      client.close();
      expect(await sent).toBeInstanceOf(Error);
      await expect(client.send(MATCH, 'b')).rejects.toThrow('closed');
      expect(() => client.resume()).toThrow('closed');
      expect(client.unacked).toBe(0);
    });
  });
});
