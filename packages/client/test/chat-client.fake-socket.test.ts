import { ChatClient, ChatError, type ChatClientOptions } from '../src';
import type { ErrorBody, MessageView } from '@mm/contract';
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
  deleted: false,
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
  const refuse = (index: number, error: ErrorBody) =>
    socket.sends()[index]!.answer({ ok: false, error });

  /** Tracks a promise: `state()` says whether it is pending, resolved or rejected. */
  function track<T>(promise: Promise<T>) {
    let state: 'pending' | 'resolved' | 'rejected' = 'pending';
    promise.then(
      () => (state = 'resolved'),
      () => (state = 'rejected'),
    );
    return () => state;
  }

  describe('the outbox', () => {
    it('when messages are sent before the connection, then they go after the first sync, in the order sent', async () => {
      create();
      const sent = ['a', 'b', 'c'].map((body) => client.send(MATCH, body, `client-${body}`));
      expect(socket.emitted).toHaveLength(0);

      client.connect();
      expect(socket.emitted.map((e) => e.event)).toEqual(['sync']);
      await answerSync();

      expect(sentIds()).toEqual(['client-a', 'client-b', 'client-c']);
      [1, 2, 3].forEach((seq, index) => ackStored(index, seq));
      expect((await Promise.all(sent)).map((m) => m.seq)).toEqual([1, 2, 3]);
      expect(client.unacked).toBe(0);
      expect(socket.emittedOffline).toEqual([]);
    });

    it('when the connection drops with some sends unacked, then the next connection resends only those, in order, with their client_id', async () => {
      await connected();
      const [a, b, c] = ['a', 'b', 'c'].map((body) =>
        track(client.send(MATCH, body, `client-${body}`)),
      );
      ackStored(1, 1); // b is stored and acked; a and c lose their acks
      await settle();
      socket.drop();
      expect([a!(), b!(), c!()]).toEqual(['pending', 'resolved', 'pending']);

      socket.connect();
      expect(sentIds()).toEqual(['client-a', 'client-b', 'client-c']); // nothing before the sync
      await answerSync([message(1, { client_id: 'client-b' })]);
      expect(sentIds().slice(3)).toEqual(['client-a', 'client-c']);
      ackStored(3, 2);
      ackStored(4, 3);
      await settle();
      expect([a!(), b!(), c!()]).toEqual(['resolved', 'resolved', 'resolved']);
      expect(seqs()).toEqual([1, 2, 3]); // its own messages, each once
    });

    it('when no ack comes within ackTimeoutMs, then it is sent again on the same connection', async () => {
      await connected();
      const sent = track(client.send(MATCH, 'a', 'client-a'));
      await jest.advanceTimersByTimeAsync(ACK_TIMEOUT_MS - 1);
      expect(sentIds()).toEqual(['client-a']);
      await jest.advanceTimersByTimeAsync(1);
      expect(sentIds()).toEqual(['client-a', 'client-a']);
      ackStored(1, 1);
      await settle();
      expect(sent()).toBe('resolved');
    });

    it('when a send is refused with RATE_LIMITED, then it goes again after the retry_after asked, with the same client_id, and resolves', async () => {
      await connected();
      const sent = client.send(MATCH, 'a', 'client-a');
      refuse(0, { code: 'RATE_LIMITED', message: 'Slow down.', details: { retry_after: 3 } });

      await jest.advanceTimersByTimeAsync(2_999);
      expect(sentIds()).toEqual(['client-a']);
      await jest.advanceTimersByTimeAsync(1);
      expect(sentIds()).toEqual(['client-a', 'client-a']);

      ackStored(1, 1);
      expect(await sent).toMatchObject({ seq: 1, client_id: 'client-a' });
      expect(client.unacked).toBe(0);
    });

    it('when a send is refused for good, then it rejects with the ChatError, is reported, and never goes again', async () => {
      await connected();
      const errors: string[] = [];
      client.on('error', (error) => errors.push(error.code));
      const sent = client.send(MATCH, 'a', 'client-a').catch((error: unknown) => error);
      refuse(0, { code: 'MATCH_NOT_ACTIVE', message: 'This match is over.' });

      const error = await sent;
      expect(error).toBeInstanceOf(ChatError);
      expect((error as ChatError).error.code).toBe('MATCH_NOT_ACTIVE');
      expect(errors).toEqual(['MATCH_NOT_ACTIVE']);
      await jest.advanceTimersByTimeAsync(60_000);
      socket.drop();
      socket.connect();
      await answerSync();
      expect(sentIds()).toEqual(['client-a']);
      expect(client.unacked).toBe(0);
    });
  });

  describe('the watermark and deduplication', () => {
    it('when live seqs arrive with a hole, then the watermark stops below the hole and moves only once it is filled', async () => {
      await connected();
      socket.push('message:new', message(1));
      expect(client.lastSeq(MATCH)).toBe(1);
      socket.push('message:new', message(3));
      socket.push('message:new', message(4));
      expect(client.lastSeq(MATCH)).toBe(1);
      socket.push('message:new', message(2));
      expect(client.lastSeq(MATCH)).toBe(4);
      expect(seqs()).toEqual([1, 3, 4, 2]);
    });

    it('when seq 3 arrives before seq 2, then both are delivered once and the sync after the gap delay fills the hole', async () => {
      await connected({ lastSeqs: { [MATCH]: 1 } });
      socket.push('message:new', message(3));
      expect(seqs()).toEqual([3]);

      await jest.advanceTimersByTimeAsync(GAP_DELAY_MS);
      expect(socket.pendingSync().payload.since).toEqual({ [MATCH]: 1 });
      await answerSync([message(2), message(3)]);

      expect(seqs()).toEqual([3, 2]);
      expect(client.lastSeq(MATCH)).toBe(3);
      await jest.advanceTimersByTimeAsync(10 * GAP_DELAY_MS);
      expect(socket.syncs()).toHaveLength(2); // the first and the one gap
    });

    it('when the missing seq arrives live within the gap delay, then no sync is asked for', async () => {
      await connected({ lastSeqs: { [MATCH]: 1 } });
      socket.push('message:new', message(3));
      socket.push('message:new', message(2));
      await jest.advanceTimersByTimeAsync(10 * GAP_DELAY_MS);
      expect(socket.syncs()).toHaveLength(1);
      expect(client.lastSeq(MATCH)).toBe(3);
    });

    it('when a sync skips a seq (a secret message purged), then the watermark moves past it', async () => {
      create().connect();
      await answerSync([message(1), message(2), message(4)]);
      expect(client.lastSeq(MATCH)).toBe(4);
      socket.push('message:new', message(5));
      expect(client.lastSeq(MATCH)).toBe(5);
    });

    it('when the live message above a gap and the gap itself were purged before the sync, then the empty answer closes the gap instead of syncing forever', async () => {
      await connected({ lastSeqs: { [MATCH]: 1 } });
      socket.push('message:new', message(3, { is_secret: true }));
      await jest.advanceTimersByTimeAsync(GAP_DELAY_MS);
      await answerSync([]); // seqs 2 and 3 expired meanwhile

      expect(client.lastSeq(MATCH)).toBe(3);
      await jest.advanceTimersByTimeAsync(20 * GAP_DELAY_MS);
      expect(socket.syncs()).toHaveLength(2);
      socket.push('message:new', message(3, { is_secret: true }));
      socket.push('message:new', message(4));
      expect(seqs()).toEqual([3, 4]);
    });

    it('when a sync has more pages, then a gap closes only on the last page', async () => {
      await connected({ lastSeqs: { [MATCH]: 1 }, syncPageSize: 1 });
      socket.push('message:new', message(4));
      await jest.advanceTimersByTimeAsync(GAP_DELAY_MS);
      socket.pendingSync().answer({ ok: true, messages: [message(2)], has_more: true });
      await settle();
      expect(client.lastSeq(MATCH)).toBe(2);
      expect(socket.pendingSync().payload.since).toEqual({ [MATCH]: 2 });
      await answerSync([]); // 3 was purged
      expect(client.lastSeq(MATCH)).toBe(4);
      expect(seqs()).toEqual([4, 2]);
    });

    it('when the same seq comes live, in an ack and in a replay, then it is delivered once', async () => {
      await connected();
      const sent = client.send(MATCH, 'mine', 'client-mine');
      socket.push('message:new', message(1, { client_id: 'client-mine', sender_id: 1 }));
      ackStored(0, 1);
      await sent;
      socket.push('message:new', message(2));
      socket.push('message:new', message(2));

      socket.drop();
      socket.connect();
      expect(socket.pendingSync().payload.since).toEqual({ [MATCH]: 2 });
      await answerSync([message(1), message(2)]); // a server replaying more than asked
      expect(seqs()).toEqual([1, 2]);
    });
  });

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

  describe('delivery receipts, unsend and unread totals', () => {
    const deliveries = () =>
      socket.emitted.filter((e) => e.event === 'delivered').map((e) => e.payload);

    it('when messages arrive live and replayed, then one delivered goes per burst, for the seq held without a gap', async () => {
      create().connect();
      await answerSync([message(1), message(2)]);
      await settle();
      expect(deliveries()).toEqual([{ match_id: MATCH, seq: 2 }]);

      socket.push('message:new', message(4)); // 3 is still missing: 2 is all it holds
      socket.push('message:new', message(3));
      await settle();
      expect(deliveries()).toEqual([
        { match_id: MATCH, seq: 2 },
        { match_id: MATCH, seq: 4 },
      ]);
    });

    it('when the message is the ack of its own send, then no delivered goes', async () => {
      await connected();
      const sent = client.send(MATCH, 'mine');
      ackStored(0, 1);
      await sent;
      await settle();
      expect(deliveries()).toEqual([]);
    });

    it('when autoDelivered is off, then none goes until markDelivered is called', async () => {
      await connected({ autoDelivered: false });
      socket.push('message:new', message(1));
      await settle();
      expect(deliveries()).toEqual([]);
      const marked = client.markDelivered(MATCH, 1);
      socket.emitted.at(-1)!.answer({ ok: true, last_delivered_seq: 1 });
      await expect(marked).resolves.toBe(1);
      expect(deliveries()).toEqual([{ match_id: MATCH, seq: 1 }]);
    });

    it('when the server tells delivered, deleted and unread total, then the client tells its listeners', async () => {
      await connected();
      const heard: unknown[] = [];
      client.on('delivered', (e) => heard.push(['delivered', e]));
      client.on('deleted', (e) => heard.push(['deleted', e]));
      client.on('unreadTotal', (e) => heard.push(['unreadTotal', e]));
      socket.push('message:delivered', { match_id: MATCH, user_id: 2, seq: 3 });
      socket.push('message:deleted', { match_id: MATCH, user_id: 2, seq: 2 });
      socket.push('unread:total', { total: 5 });
      expect(heard).toEqual([
        ['delivered', { match_id: MATCH, user_id: 2, seq: 3 }],
        ['deleted', { match_id: MATCH, user_id: 2, seq: 2 }],
        ['unreadTotal', { total: 5 }],
      ]);
    });

    it('when a message is deleted, then it resolves with the tombstone; a refusal rejects with the ChatError', async () => {
      await connected();
      const deleted = client.deleteMessage(MATCH, 1);
      const request = socket.emitted.at(-1)!;
      expect(request).toMatchObject({
        event: 'message:delete',
        payload: { match_id: MATCH, seq: 1 },
      });
      request.answer({ ok: true, message: message(1, { body: null, deleted: true }) });
      await expect(deleted).resolves.toMatchObject({ seq: 1, deleted: true, body: null });

      const refused = client.deleteMessage(MATCH, 2);
      const error = { code: 'UNSEND_WINDOW_CLOSED', message: 'too old' } as const;
      socket.emitted.at(-1)!.answer({ ok: false, error });
      await expect(refused).rejects.toEqual(new ChatError(error));
    });
  });
});
