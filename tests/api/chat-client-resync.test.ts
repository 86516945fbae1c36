import { appendMessageBatch, type DatabaseHandle } from '@mm/db';
import { openTestDatabase } from '@mm/db/testing';
import { askToResync } from '@mm/gateway';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { eventually } from '@mm/test-support/http';
import { chatClient, seqsOf, type Receiver } from '@mm/test-support/realtime';

/**
 * The SDK's re-sync while its socket stays up (docs/design.md §4.4): a message stored but never
 * delivered live (as when a gateway's Redis subscription dropped) still reaches the ChatClient,
 * once, whether a later message reveals the gap or the server says `sync:needed`. The messages
 * are lost on purpose by storing them with the db query function, which broadcasts nothing.
 */
describe('ChatClient: what it missed live while connected', () => {
  let api: TestService;
  let database: DatabaseHandle;
  let ann: TestUser;
  let bob: TestUser;
  let matchId: number;
  let annEnd: Receiver;
  let bobEnd: Receiver;

  /** Stores a message from Ann as a send would, but tells no socket about it. */
  const storeUnannounced = async (clientId: string, body: string): Promise<number> => {
    const [outcome] = await appendMessageBatch(
      database.db,
      [{ matchId, senderId: ann.id, clientId, body }],
      60_000,
    );
    if (outcome?.outcome !== 'new') throw new Error(`not stored: ${JSON.stringify(outcome)}`);
    return outcome.message.seq;
  };

  beforeAll(async () => {
    api = await startTestService('client-resync');
    database = await openTestDatabase(api.schema, 1);
    ann = await createUser(api.url, freshUserId(), 'Ann');
    bob = await createUser(api.url, freshUserId(), 'Bob');
    matchId = (await ann.rest.findMatch(ann.id)).id;
    annEnd = await chatClient({ url: api.url, token: ann.token, lastSeqs: { [matchId]: 0 } });
    bobEnd = await chatClient({
      url: api.url,
      token: bob.token,
      lastSeqs: { [matchId]: 0 },
      syncNeededSpreadMs: 0,
      gapSyncDelayMs: 50,
    });
  });

  afterAll(async () => {
    annEnd?.client.close();
    bobEnd?.client.close();
    await database?.close();
    await api?.stop();
  });

  it('when a message was never delivered live and a later one arrives, then the client syncs the missing one and holds both once', async () => {
    const lost = await storeUnannounced('lost-1', 'never announced');
    const later = await annEnd.client.send(matchId, 'announced');
    expect(later.seq).toBe(lost + 1);

    await eventually(
      async () => bobEnd.client.lastSeq(matchId),
      (held) => held >= later.seq,
    );
    expect(seqsOf(bobEnd.messages, matchId).sort((a, b) => a - b)).toEqual([lost, later.seq]);
    expect(bobEnd.messages.find((m) => m.seq === lost)?.body).toBe('never announced');
    expect(bobEnd.client.connected).toBe(true);
  });

  it('when the last message was never delivered live and the server sends sync:needed, then the client fetches it once', async () => {
    const before = seqsOf(bobEnd.messages, matchId);
    const lost = await storeUnannounced('lost-2', 'the last word');

    askToResync(api.service.io);

    await eventually(
      async () => bobEnd.client.lastSeq(matchId),
      (held) => held >= lost,
    );
    expect(seqsOf(bobEnd.messages, matchId)).toEqual([...before, lost]);
    expect(bobEnd.messages.at(-1)?.body).toBe('the last word');
  });
});
