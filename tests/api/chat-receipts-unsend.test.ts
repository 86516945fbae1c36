import { ChatClient } from '@mm/client';
import type { DeliveredEvent, MessageDeletedEvent, ReadEvent } from '@mm/contract';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { eventually } from '@mm/test-support/http';
import { chatClient, holdsUpTo, type Receiver } from '@mm/test-support/realtime';

/**
 * Delivery and read receipts, unsend, match-list previews and unread totals end to end
 * (docs/design.md §4.6-§4.8): two SDK clients on the embedded service, as two apps would.
 */
describe('ChatClient and RestClient: receipts, unsend, previews and unread totals', () => {
  let api: TestService;
  let ann: TestUser;
  let bob: TestUser;
  let matchId: number;
  let annEnd: Receiver;
  let bobEnd: Receiver;
  const heard = {
    delivered: [] as DeliveredEvent[],
    read: [] as ReadEvent[],
    deleted: [] as MessageDeletedEvent[],
    bobTotals: [] as number[],
  };
  const last =
    <T>(list: T[]) =>
    async () =>
      list.at(-1);

  beforeAll(async () => {
    api = await startTestService('chat-receipts');
    ann = await createUser(api.url, freshUserId(), 'Ann');
    bob = await createUser(api.url, freshUserId(), 'Bob');
    matchId = (await ann.rest.findMatch(ann.id)).id;
    annEnd = await chatClient({ url: api.url, token: ann.token, lastSeqs: { [matchId]: 0 } });
    annEnd.client.on('delivered', (e) => heard.delivered.push(e));
    annEnd.client.on('read', (e) => heard.read.push(e));
    bobEnd = await chatClient({ url: api.url, token: bob.token, lastSeqs: { [matchId]: 0 } });
    bobEnd.client.on('deleted', (e) => heard.deleted.push(e));
    bobEnd.client.on('unreadTotal', (e) => heard.bobTotals.push(e.total));
  });

  afterAll(async () => {
    annEnd?.client.close();
    bobEnd?.client.close();
    await api?.stop();
  });

  it('when Ann writes, then Bob’s client acks delivery by itself, Ann hears delivered, then read once Bob reads', async () => {
    const first = await annEnd.client.send(matchId, 'hello Bob');
    const second = await annEnd.client.send(matchId, 'are you there?');
    await holdsUpTo(bobEnd, matchId, second.seq);

    await eventually(last(heard.delivered), (e) => e?.seq === second.seq);
    expect(heard.delivered.every((e) => e.user_id === bob.id && e.match_id === matchId)).toBe(true);
    expect(heard.read).toEqual([]);
    await eventually(last(heard.bobTotals), (total) => total === 2);

    await bobEnd.client.markRead(matchId, first.seq);
    await eventually(last(heard.read), (e) => e?.seq === first.seq);
    await eventually(last(heard.bobTotals), (total) => total === 1);

    const [annView] = await ann.rest.myMatches();
    expect(annView).toMatchObject({
      id: matchId,
      partner_last_delivered_seq: second.seq,
      partner_last_read_seq: first.seq,
      last_message: { seq: second.seq, body: 'are you there?', sender_id: ann.id, deleted: false },
    });
    const [bobView] = await bob.rest.myMatches();
    expect(bobView).toMatchObject({ unread_count: 1, last_delivered_seq: second.seq });
  });

  it('when Ann takes a message back over the socket, then Bob hears deleted, his total drops and history keeps a tombstone', async () => {
    const oops = await annEnd.client.send(matchId, 'wrong chat, sorry');
    await eventually(last(heard.bobTotals), (total) => total === 2);

    const tombstone = await annEnd.client.deleteMessage(matchId, oops.seq);
    expect(tombstone).toMatchObject({ seq: oops.seq, body: null, deleted: true });
    await eventually(last(heard.deleted), (e) => e?.seq === oops.seq);
    expect(heard.deleted.at(-1)).toEqual({ match_id: matchId, seq: oops.seq, user_id: ann.id });
    await eventually(last(heard.bobTotals), (total) => total === 1);

    const history = await bob.rest.history(matchId);
    expect(history.messages.find((m) => m.seq === oops.seq)).toMatchObject({
      body: null,
      deleted: true,
    });
    const [bobView] = await bob.rest.myMatches();
    expect(bobView!.last_message).toMatchObject({ seq: oops.seq, body: null, deleted: true });

    // Again, over REST: the same tombstone, nothing new told.
    await expect(ann.rest.deleteMessage(matchId, oops.seq)).resolves.toMatchObject({
      seq: oops.seq,
      deleted: true,
    });
  });

  it('when Bob tries to take back Ann’s message, then REST answers 403 NOT_MESSAGE_SENDER and the socket acks the same', async () => {
    await expect(bob.rest.deleteMessage(matchId, 1)).rejects.toMatchObject({
      status: 403,
      error: { code: 'NOT_MESSAGE_SENDER' },
    });
    await expect(bobEnd.client.deleteMessage(matchId, 1)).rejects.toMatchObject({
      error: { code: 'NOT_MESSAGE_SENDER' },
    });
    expect((await bob.rest.history(matchId)).messages[0]).toMatchObject({ body: 'hello Bob' });
  });

  it('when Bob connects again, then the connect tells him his unread total', async () => {
    const totals: number[] = [];
    const again = new ChatClient({ url: api.url, token: bob.token, autoDelivered: false });
    again.on('unreadTotal', (e) => totals.push(e.total));
    again.connect();
    try {
      await eventually(
        async () => totals,
        (told) => told.length > 0,
      );
      expect(totals[0]).toBe(1);
    } finally {
      again.close();
    }
  });
});
