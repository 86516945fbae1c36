import type { ChatSocket } from '@mm/client';
import { UNSTORABLE_TEXT_MESSAGE } from '@mm/contract';
import { connect, createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';
import { callJson } from '@mm/test-support/http';

/**
 * Text PostgreSQL or JSON cannot hold (NUL, lone surrogates, control characters) is refused at the
 * edge, over the socket and REST, with VALIDATION_FAILED naming the field, and never fails anyone
 * else's request: one such message used to fail every message written in the same batch.
 */
describe('text the database cannot hold', () => {
  let api: TestService;
  const sockets: ChatSocket[] = [];

  beforeAll(async () => {
    api = await startTestService('storable_text');
  });
  afterAll(async () => {
    sockets.forEach((socket) => socket.disconnect());
    await api?.stop();
  });

  const call = (user: TestUser, method: string, path: string, body?: unknown) =>
    callJson(api.url, user.token, method, path, body);
  const refusal = (field: string) => ({
    code: 'VALIDATION_FAILED',
    details: { fields: [{ field, message: UNSTORABLE_TEXT_MESSAGE }] },
  });

  let cityNo = 0;
  async function matchedPair() {
    const city = `Text City ${++cityNo}`;
    const [ann, bob] = [
      await createUser(api.url, freshUserId()),
      await createUser(api.url, freshUserId()),
    ];
    await ann.rest.saveProfile({ display_name: 'Ann', city });
    await bob.rest.saveProfile({ display_name: 'Bob', city });
    const match = await ann.rest.findMatch(ann.id, { city });
    return { ann, bob, match, city };
  }

  it('when a socket sends a body with a NUL, a lone surrogate or a control character, then that send is refused naming body and the bystanders sent at once are stored', async () => {
    const attacker = await matchedPair();
    const bystanders = await matchedPair();
    const [eve, ann, bob] = await Promise.all(
      [attacker.ann, bystanders.ann, bystanders.bob].map((user) => connect(api.url, user)),
    );
    sockets.push(eve!, ann!, bob!);
    const bad = ['nul \u0000 here', 'lone \uD800 surrogate', 'escape \u001b[2J'];
    const send = (socket: ChatSocket, matchId: number, clientId: string, body: string) =>
      socket.emitWithAck('message:send', { match_id: matchId, client_id: clientId, body });

    // All emitted in one turn, so they reach the writer together.
    const acks = await Promise.all([
      ...bad.map((body, i) => send(eve!, attacker.match.id, `bad${i}`, body)),
      ...[0, 1, 2].map((i) => send(ann!, bystanders.match.id, `a${i}`, `hello ${i} 😀`)),
      ...[0, 1, 2].map((i) =>
        send(bob!, bystanders.match.id, `b${i}`, `tab\there\nand a line ${i}`),
      ),
      send(eve!, attacker.match.id, `bad\u0000id`, 'a client_id with a NUL'),
    ]);

    for (const ack of acks.slice(0, 3))
      expect(ack).toMatchObject({ ok: false, error: refusal('body') });
    expect(acks[9]).toMatchObject({ ok: false, error: refusal('client_id') });
    for (const ack of acks.slice(3, 9)) expect(ack).toMatchObject({ ok: true });
    const history = await bystanders.ann.rest.history(bystanders.match.id);
    expect(history.messages).toHaveLength(6);
    expect((await attacker.ann.rest.history(attacker.match.id)).messages).toEqual([]);
  });

  it('when a REST send has a NUL body, then it is 400 naming body and the bystanders sent at once are stored', async () => {
    const attacker = await matchedPair();
    const bystanders = await matchedPair();
    const send = (user: TestUser, matchId: number, clientId: string, body: string) =>
      call(user, 'POST', '/api/mystery/send-message', {
        match_id: matchId,
        client_id: clientId,
        body,
      });

    const answers = await Promise.all([
      send(attacker.ann, attacker.match.id, 'bad', 'nul \u0000 here'),
      send(bystanders.ann, bystanders.match.id, 'a1', 'hello'),
      send(bystanders.bob, bystanders.match.id, 'b1', 'hi there'),
      send(bystanders.ann, bystanders.match.id, 'a2', 'how are you?'),
    ]);

    expect(answers[0]).toMatchObject({ status: 400, body: { error: refusal('body') } });
    for (const answer of answers.slice(1)) expect(answer.status).toBe(201);
    const history = await bystanders.bob.rest.history(bystanders.match.id);
    expect(history.messages.map((m) => m.client_id).sort()).toEqual(['a1', 'a2', 'b1']);
  });

  it.each([
    ['display_name', { display_name: 'An\u0000n' }],
    ['city', { display_name: 'Ann', city: 'Par\u0000is' }],
    ['bio', { display_name: 'Ann', bio: 'lone \uDC00' }],
    ['interests.1', { display_name: 'Ann', interests: ['music', 'be\u0007ll'] }],
    ['photo_url', { display_name: 'Ann', photo_url: 'https://example.com/\u0000.jpg' }],
  ])(
    'when PUT /users/me holds such a character in %s, then it is 400 naming it and nothing changes',
    async (field, profile) => {
      const user = await createUser(api.url, freshUserId(), 'Before');
      const { status, body } = await call(user, 'PUT', '/api/users/me', profile);
      expect(status).toBe(400);
      expect(body.error).toMatchObject(refusal(field));
      expect((await call(user, 'GET', '/api/users/me')).body.display_name).toBe('Before');
    },
  );

  it('when a profile holds tabs, line breaks and emoji, then it is stored as written', async () => {
    const user = await createUser(api.url, freshUserId());
    const bio = 'line one\r\nline two\tand 😀';
    const { status, body } = await call(user, 'PUT', '/api/users/me', {
      display_name: 'Ann 😀',
      bio,
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ display_name: 'Ann 😀', bio });
  });

  it('when a report, find-match or discovery carries a NUL, then it is 400 naming the field', async () => {
    const { ann, match } = await matchedPair();
    const report = await call(ann, 'POST', '/api/mystery/report', {
      match_id: match.id,
      reason: 'other',
      details: 'see \u0000 this',
    });
    expect(report.status).toBe(400);
    expect(report.body.error).toMatchObject(refusal('details'));

    const seeker = await createUser(api.url, freshUserId());
    const find = await call(seeker, 'POST', '/api/mystery/find-match', {
      user_id: seeker.id,
      city: 'Nowhere\u0000',
    });
    expect(find.status).toBe(400);
    expect(find.body.error).toMatchObject(refusal('city'));

    const scroll = await call(seeker, 'GET', '/api/v1/matching/profiles/scroll?city=a%00b');
    expect(scroll.status).toBe(400);
    expect(scroll.body.error).toMatchObject(refusal('city'));
  });
});
