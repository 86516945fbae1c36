import { sql } from 'kysely';
import { notificationSettings, type NotificationSettings } from '@mm/contract';
import { generateVapidKeys, WebPushTransport, type RoomBroadcaster } from '@mm/core';
import { setMessageCounts } from '@mm/db/testing';
import { freshUserId } from '@mm/test-support/chat';
import { startLocalPushService, type LocalPushService } from '@mm/test-support/push-service';
import { openTestServices, type TestServices } from '@mm/test-support/services';

/**
 * Push notifications end to end in one process, on real Postgres: events enqueue in their own
 * transaction, the sender sends them with web-push over TLS to a local push service, which checks
 * the VAPID JWT and decrypts the payload with the device's keys. Assertions are on what the device
 * would show.
 */

const vapid = { ...generateVapidKeys(), subject: 'mailto:push-test@example.com' };
const emitted: { rooms: string[]; event: string; payload: any }[] = [];
const recording: RoomBroadcaster = {
  to(room) {
    const rooms = [room].flat();
    const operator = {
      except: () => operator,
      emit: (event: string, payload: unknown) => void emitted.push({ rooms, event, payload }),
      socketsJoin: () => undefined,
      socketsLeave: () => undefined,
      disconnectSockets: () => undefined,
    };
    return operator;
  },
};

const DEFAULTS: NotificationSettings = {
  kinds: { match: true, message: true, unlock: true, expiring: true },
  previews: false,
  quiet_hours: null,
};

describe('push notifications', () => {
  let push: LocalPushService;
  let test: TestServices;

  beforeAll(async () => {
    push = await startLocalPushService(vapid.publicKey);
    test = await openTestServices('push_notifications', {
      broadcaster: recording,
      push: {
        transport: new WebPushTransport(vapid, push.agent),
        options: { baseBackoffMs: 60_000 },
      },
    });
  });
  afterAll(async () => {
    await test?.close();
    await push?.close();
  });

  const db = () => test.database.db;
  const services = () => test.services;
  const sender = () => services().pushSender!;

  let cityNo = 0;
  /** Two approved users in a city of their own, matched; each has a device registered. */
  async function pairWithDevice() {
    const annDevice = push.device();
    const bobDevice = push.device();
    const pair = await matchedPair(async (ann, bob) => {
      await services().notifications.subscribe(ann, annDevice.subscription);
      await services().notifications.subscribe(bob, bobDevice.subscription);
    });
    return { ...pair, annDevice, bobDevice };
  }
  /** Two approved users in a city of their own, matched after `beforeMatch` ran. */
  async function matchedPair(beforeMatch: (ann: number, bob: number) => Promise<void>) {
    const city = `Push ${++cityNo}`;
    const [ann, bob] = [freshUserId(), freshUserId()];
    for (const [id, name] of [
      [ann, 'Ann'],
      [bob, 'Bob'],
    ] as const) {
      await services().users.saveProfile(id, { display_name: name, city, interests: [] });
    }
    await beforeMatch(ann, bob);
    const match = await services().matches.findMatch(ann, { user_id: ann, city });
    expect(match.partner_id).toBe(bob);
    return { ann, bob, match };
  }
  const deliveredTo = (deviceId: string) => push.deliveries.filter((d) => d.deviceId === deviceId);
  const send = (matchId: number, senderId: number, body: string) =>
    services().messages.send(senderId, {
      match_id: matchId,
      client_id: `${senderId}-${body}-${Math.random()}`,
      body,
    });
  const pending = (userId: number) =>
    db()
      .selectFrom('notification_outbox')
      .selectAll()
      .where('user_id', '=', userId)
      .where('done_at', 'is', null)
      .execute();

  it('when a match is found, then the partner offline is told by a push that names nobody, and the caller is not', async () => {
    const { match, annDevice, bobDevice } = await pairWithDevice();
    await sender().drain();
    expect(push.rejected).toEqual([]);
    expect(deliveredTo(bobDevice.id)).toEqual([
      expect.objectContaining({
        topic: `m${match.id}-match`,
        status: 201,
        payload: {
          kind: 'match',
          match_id: match.id,
          title: 'New match',
          body: 'You matched with Mystery User. Say hello!',
        },
      }),
    ]);
    expect(deliveredTo(annDevice.id)).toEqual([]);
  });

  it('when several messages wait, then one push says how many, without the text; with previews on, a later one replaces it with the text', async () => {
    const { ann, bob, match, bobDevice } = await pairWithDevice();
    await sender().drain();
    const before = deliveredTo(bobDevice.id).length;
    for (const body of ['one', 'two', 'three']) await send(match.id, ann, body);
    const rows = await pending(bob);
    expect(rows.map((r) => [r.kind, r.message_count])).toEqual([['message', 3]]);

    await sender().drain();
    const [first] = deliveredTo(bobDevice.id).slice(before);
    expect(first).toMatchObject({
      topic: `m${match.id}-message`,
      payload: { kind: 'message', title: 'Mystery User', body: '3 new messages', unread: 3 },
    });

    await services().notifications.saveSettings(bob, { ...DEFAULTS, previews: true });
    await send(match.id, ann, 'mail me: ann@example.com');
    await sender().drain();
    const [second, more] = deliveredTo(bobDevice.id).slice(before + 1);
    expect(more).toBeUndefined();
    // Same topic: the device replaces the first. Contact details masked below full unlock.
    expect(second!.topic).toBe(first!.topic);
    expect(second!.payload).toMatchObject({ unread: 4, title: 'Mystery User' });
    expect(second!.payload.body).not.toContain('ann@example.com');
    expect(second!.payload.body).toMatch(/^mail me: /);
  });

  it('when a message opens an unlock level, then both sides are told once, with the partner as the new level shows them', async () => {
    const { ann, match, annDevice, bobDevice } = await pairWithDevice();
    await sender().drain();
    const before = push.deliveries.length;
    await setMessageCounts(db(), match.id, 19);
    await send(match.id, ann, 'the twentieth');
    await send(match.id, ann, 'the twenty-first'); // same level: nothing more to announce
    await sender().drain();
    const unlocks = push.deliveries.slice(before).filter((d) => d.payload.kind === 'unlock');
    expect(unlocks.map((d) => d.deviceId).sort()).toEqual([annDevice.id, bobDevice.id].sort());
    for (const delivery of unlocks) {
      expect(delivery).toMatchObject({
        topic: `m${match.id}-unlock`,
        payload: {
          title: 'Level 1 unlocked',
          body: 'You can now see more of Mystery User.',
          level: 1,
        },
      });
    }
  });

  it('when the recipient has no device registered, then a message enqueues nothing for them; once they register one, the next message does', async () => {
    const { ann, bob, match } = await matchedPair(async () => undefined);
    await sender().drain();
    await send(match.id, ann, 'anyone there?');
    await send(match.id, ann, 'hello?');
    const messageRows = await db()
      .selectFrom('notification_outbox')
      .select('id')
      .where('user_id', '=', bob)
      .where('kind', '=', 'message')
      .execute();
    expect(messageRows).toEqual([]);

    const bobDevice = push.device();
    await services().notifications.subscribe(bob, bobDevice.subscription);
    await send(match.id, ann, 'now?');
    expect((await pending(bob)).map((r) => [r.kind, r.message_count])).toEqual([['message', 1]]);
    await sender().drain();
    // The count is read when the push goes out: every unread message, the earlier ones too.
    expect(deliveredTo(bobDevice.id)).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ kind: 'message', unread: 3 }) }),
    ]);
  });

  it('when the recipient has a socket connected, then nothing is pushed and the row is done', async () => {
    const { ann, bob, match, bobDevice } = await pairWithDevice();
    await sender().drain();
    const before = deliveredTo(bobDevice.id).length;
    await services().presence.connected(bob, 'socket-1');
    await send(match.id, ann, 'are you there?');
    await sender().drain();
    expect(deliveredTo(bobDevice.id).length).toBe(before);
    expect(await pending(bob)).toEqual([]);
    await services().presence.disconnected(bob, 'socket-1');
  });

  it('when the recipient read the messages before the push went out, then nothing is pushed', async () => {
    const { ann, bob, match, bobDevice } = await pairWithDevice();
    await sender().drain();
    const before = deliveredTo(bobDevice.id).length;
    const { message } = await send(match.id, ann, 'read me');
    await services().receipts.markRead(bob, { match_id: match.id, seq: message.seq });
    await sender().drain();
    expect(deliveredTo(bobDevice.id).length).toBe(before);
    expect(await pending(bob)).toEqual([]);
  });

  it('when the kind is turned off, then nothing of that kind is pushed', async () => {
    const { ann, bob, match, bobDevice } = await pairWithDevice();
    await sender().drain();
    const before = deliveredTo(bobDevice.id).length;
    await services().notifications.saveSettings(bob, {
      ...DEFAULTS,
      kinds: { ...DEFAULTS.kinds, message: false },
    });
    await send(match.id, ann, 'hello?');
    await sender().drain();
    expect(deliveredTo(bobDevice.id).length).toBe(before);
  });

  it('when quiet hours hold now, then the push waits until they end', async () => {
    const { ann, bob, match, bobDevice } = await pairWithDevice();
    await sender().drain();
    const before = deliveredTo(bobDevice.id).length;
    const hour = new Date().getUTCHours();
    const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    await services().notifications.saveSettings(bob, {
      ...DEFAULTS,
      quiet_hours: { start: hh(hour - 1), end: hh(hour + 2), time_zone: 'UTC' },
    });
    await send(match.id, ann, 'late night');
    await sender().drain();
    expect(deliveredTo(bobDevice.id).length).toBe(before);
    const [row] = await pending(bob);
    const end = new Date();
    end.setUTCHours(hour + 2, 0, 0, 0);
    expect(row!.available_at.getTime()).toBe(end.getTime());
    expect(row!.attempts).toBe(0);
  });

  it('when the push service answers 410, then the subscription is removed', async () => {
    const { bob, bobDevice } = await pairWithDevice();
    push.answer(bobDevice.id, 410);
    await sender().drain();
    expect(deliveredTo(bobDevice.id).map((d) => d.status)).toEqual([410]);
    const left = await db()
      .selectFrom('push_subscriptions')
      .select('endpoint')
      .where('user_id', '=', bob)
      .execute();
    expect(left).toEqual([]);
  });

  it('when the push service fails, then the push is retried after a backoff', async () => {
    const { bob, bobDevice } = await pairWithDevice();
    push.answer(bobDevice.id, 503);
    const started = Date.now();
    await sender().drain();
    const [row] = await pending(bob);
    expect(row).toMatchObject({ kind: 'match', attempts: 1, claimed_until: null });
    expect(row!.available_at.getTime()).toBeGreaterThanOrEqual(started + 60_000);
  });

  it('when a match nears its expiry, then both sides are warned once on the socket and by push; an extension warns again before the new expiry', async () => {
    const { ann, bob, match, bobDevice } = await pairWithDevice();
    await sender().drain();
    const before = deliveredTo(bobDevice.id).length;
    const soon = sql<Date>`now() + interval '30 minutes'`;
    await db()
      .updateTable('matches')
      .set({ expires_at: soon })
      .where('id', '=', match.id)
      .execute();
    await services().sweeper.sweep();
    await services().sweeper.sweep(); // a second pod's sweep: nothing more to claim
    const warnings = emitted.filter(
      (e) => e.event === 'match:expiring' && e.payload.match_id === match.id,
    );
    // Each user's room once (a broadcast per user room, as the sharded adapter wants), and no more.
    expect(warnings.flatMap((w) => w.rooms).sort()).toEqual([`user:${ann}`, `user:${bob}`].sort());

    await sender().drain();
    expect(deliveredTo(bobDevice.id).slice(before)).toEqual([
      expect.objectContaining({
        topic: `m${match.id}-expiring`,
        payload: expect.objectContaining({ kind: 'expiring', match_id: match.id }),
      }),
    ]);

    await services().matches.extend(ann, match.id);
    await db()
      .updateTable('matches')
      .set({ expires_at: soon })
      .where('id', '=', match.id)
      .execute();
    await services().sweeper.sweep();
    // Warned again: each user's room a second time.
    const rooms = emitted
      .filter((e) => e.event === 'match:expiring' && e.payload.match_id === match.id)
      .flatMap((e) => e.rooms);
    expect(rooms.sort()).toEqual(
      [`user:${ann}`, `user:${ann}`, `user:${bob}`, `user:${bob}`].sort(),
    );
  });

  it('when settings name an unknown time zone or equal start and end, then they are refused', () => {
    const bad = (quiet_hours: unknown) =>
      notificationSettings.safeParse({ ...DEFAULTS, quiet_hours }).success;
    expect(bad({ start: '22:00', end: '07:00', time_zone: 'Europe/Berlin' })).toBe(true);
    expect(bad({ start: '22:00', end: '07:00', time_zone: 'Mars/Olympus' })).toBe(false);
    expect(bad({ start: '22:00', end: '22:00', time_zone: 'UTC' })).toBe(false);
    expect(bad({ start: '24:00', end: '07:00', time_zone: 'UTC' })).toBe(false);
  });
});
