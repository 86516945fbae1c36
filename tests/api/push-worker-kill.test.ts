import type { DatabaseHandle } from '@mm/db';
import { enqueueNotifications } from '@mm/db';
import {
  createTestSchema,
  insertMatch,
  insertUsers,
  openTestDatabase,
  type TestSchema,
} from '@mm/db/testing';
import { generateVapidKeys } from '@mm/core';
import { freshUserId } from '@mm/test-support/chat';
import { eventually } from '@mm/test-support/http';
import { startApp, type RunningProcess } from '@mm/test-support/processes';
import { startLocalPushService, type LocalPushService } from '@mm/test-support/push-service';
import { scaledEnv } from '@mm/test-support/realtime';

/**
 * The push sender in a real API pod killed (SIGKILL) while its pushes are in flight: the push
 * service has received them and not yet answered. A second pod then sends them.
 *
 * What is asserted, precisely:
 * - nothing is lost: every enqueued push reaches its device (answered 201) after the restart;
 * - nothing is doubled on the device: each push is accepted exactly once (one 201 per topic),
 *   and the only repeats are the attempts the kill cut off, which carry the same Topic and the
 *   same content, so a push service that had delivered them makes the device replace, not stack;
 * - no push is sent that was not enqueued, and every outbox row ends done.
 */

const vapid = { ...generateVapidKeys(), subject: 'mailto:push-kill@example.com' };
const PUSHES = 4;

describe('the push sender killed mid-send', () => {
  let push: LocalPushService;
  let schema: TestSchema;
  let database: DatabaseHandle;
  const pods: RunningProcess[] = [];

  beforeAll(async () => {
    push = await startLocalPushService(vapid.publicKey);
    schema = await createTestSchema('push_kill');
    database = await openTestDatabase(schema, 2);
  });
  afterAll(async () => {
    for (const pod of pods) await pod.stop('SIGKILL');
    await database?.close();
    await schema?.drop();
    await push?.close();
  });

  /** `leaseSeconds`: how long this pod's claims hold (the first pod's must run out for the second). */
  const startPod = async (leaseSeconds: number) => {
    const pod = await startApp(
      'api',
      scaledEnv(schema, 'push_kill', {
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        VAPID_SUBJECT: vapid.subject,
        PUSH_CLAIM_LEASE_SECONDS: String(leaseSeconds),
        PUSH_INTERVAL_SECONDS: '0.2',
        // The test's push service is trusted by this process only: Node reads it at start-up.
        NODE_EXTRA_CA_CERTS: push.caFile,
      }),
    );
    pods.push(pod);
    return pod;
  };

  it('when the pod dies with pushes in flight, then another pod sends each of them, none lost, none accepted twice', async () => {
    const db = database.db;
    const topics: string[] = [];
    const devices = [];
    for (let i = 0; i < PUSHES; i++) {
      const [a, b] = [freshUserId(), freshUserId()].sort((x, y) => x - y) as [number, number];
      await insertUsers(db, [a, b]);
      const matchId = await insertMatch(db, a, b);
      const device = push.device();
      push.answer(device.id, 'hold'); // the first pod's attempts are never answered
      devices.push(device);
      await db
        .insertInto('push_subscriptions')
        .values({
          user_id: b,
          endpoint: device.subscription.endpoint,
          p256dh: device.subscription.keys.p256dh,
          auth: device.subscription.keys.auth,
        })
        .execute();
      await enqueueNotifications(db, [
        { user_id: b, match_id: matchId, kind: 'match', event_key: `match:${matchId}:${b}` },
      ]);
      topics.push(`m${matchId}-match`);
    }

    const first = await startPod(3);
    // Every push has reached the push service, none answered: the pod is mid-send for all.
    await eventually(
      async () => new Set(push.deliveries.map((d) => d.topic)).size,
      (n) => n === PUSHES,
    );
    first.child.kill('SIGKILL');
    await first.exited;

    for (const device of devices) push.answer(device.id, 201);
    // A long lease here, so a slow machine cannot make this pod claim its own rows twice.
    await startPod(60);
    const done = await eventually(
      () => db.selectFrom('notification_outbox').select(['done_at', 'attempts']).execute(),
      (rows) => rows.every((row) => row.done_at !== null),
      20_000,
    );

    expect(push.rejected).toEqual([]);
    const byTopic = new Map<string, typeof push.deliveries>();
    for (const delivery of push.deliveries) {
      byTopic.set(delivery.topic!, [...(byTopic.get(delivery.topic!) ?? []), delivery]);
    }
    expect([...byTopic.keys()].sort()).toEqual([...topics].sort());
    for (const [topic, deliveries] of byTopic) {
      // Cut off by the kill (once, or again if the first pod's lease ran out before the kill),
      // then accepted exactly once, by the second pod.
      const statuses = deliveries.map((d) => d.status);
      expect({ topic, statuses }).toEqual({
        topic,
        statuses: [...Array(statuses.length - 1).fill(undefined), 201],
      });
      expect(statuses.length).toBeGreaterThanOrEqual(2);
      for (const repeat of deliveries) expect(repeat.payload).toEqual(deliveries[0]!.payload);
    }
    expect(done.every((row) => row.attempts >= 2)).toBe(true);
  });
});
