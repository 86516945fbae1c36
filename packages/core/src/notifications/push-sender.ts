import { UNREAD_COUNT_CAP, type NotificationKindName } from '@mm/contract';
import {
  claimDueNotifications,
  countUnreadMessages,
  deferNotification,
  findMatchById,
  findNotificationSettings,
  findPartnerRows,
  finishNotification,
  forgetPushEndpoint,
  latestMessageFrom,
  listPushSubscriptions,
  oldestPendingAgeSeconds,
  partnerOf,
  type Database,
  type OutboxRow,
} from '@mm/db';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger';
import { Periodic } from '../periodic';
import type { PresenceStore } from '../presence/presence-store';
import { isPremium } from '../users/premium';
import { toSettings } from './notification.service';
import { buildPushPayload, pushTopic } from './push-payload';
import type { PushTransport } from './push-transport';
import { quietUntil } from './quiet-hours';

/** Why a queued push was not sent, on purpose (`mm_push_dropped_total{reason}`). */
export type DropReason =
  'no_device' | 'kind_off' | 'online' | 'read' | 'match_over' | 'premium' | 'gone' | 'gave_up';

/** What the sender counts; `@mm/platform`'s Prometheus `Metrics` satisfies it. */
export interface PushMetrics {
  pushSent(kind: NotificationKindName): void;
  pushFailed(kind: NotificationKindName): void;
  pushDropped(kind: NotificationKindName, reason: DropReason): void;
  pushQueueAge(seconds: number): void;
}

export interface PushSenderOptions {
  /** Rows one claim takes. */
  batch: number;
  /** How long a claim holds its rows: a sender killed mid-send leaves them to others after this. */
  leaseMs: number;
  /** Attempts before a push is given up (dropped, counted). */
  maxAttempts: number;
  /** The first retry waits this long, doubling each attempt up to `maxBackoffMs`. */
  baseBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_PUSH_SENDER_OPTIONS: PushSenderOptions = {
  batch: 50,
  leaseMs: 60_000,
  maxAttempts: 8,
  baseBackoffMs: 5_000,
  maxBackoffMs: 30 * 60_000,
};

type Handled = 'sent' | 'deferred' | 'failed' | DropReason;

/**
 * Works through the outbox (docs/design.md §9): claims due rows in a short transaction of their
 * own (FOR UPDATE SKIP LOCKED and a lease), decides each one with the state as it is now, sends
 * it to each of the user's devices and then marks it done. Any number of senders may run, one
 * per API pod: a row is held by one at a time, and one that dies mid-send leaves the row to be
 * sent again once its lease ends. Delivery is at least once; a repeat carries the same Topic, so
 * the device replaces the first rather than showing two.
 *
 * Presence is read when sending, not when enqueueing: it lives in Redis, outside the event's
 * transaction, and what matters is whether the user is online when the push would arrive. A user
 * who came back meanwhile has seen the event live or will on sync.
 */
export class PushSender {
  private readonly periodic: Periodic;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly transport: PushTransport,
    private readonly presence: PresenceStore,
    private readonly options: PushSenderOptions = DEFAULT_PUSH_SENDER_OPTIONS,
    private readonly metrics?: PushMetrics,
    private readonly logger?: Logger,
  ) {
    this.periodic = new Periodic('push pass', () => this.drain(), logger);
  }

  /** One pass: claims and handles due rows until a claim comes back short. Returns rows handled. */
  async drain(): Promise<number> {
    let handled = 0;
    for (;;) {
      this.metrics?.pushQueueAge(await oldestPendingAgeSeconds(this.db));
      const rows = await claimDueNotifications(this.db, {
        limit: this.options.batch,
        leaseMs: this.options.leaseMs,
      });
      await Promise.all(rows.map((row) => this.handle(row)));
      handled += rows.length;
      if (rows.length < this.options.batch) return handled;
    }
  }

  private async handle(row: OutboxRow): Promise<void> {
    let result: Handled;
    try {
      result = await this.decideAndSend(row);
    } catch (error) {
      // The database or Redis failed us: the lease runs out and the row is claimed again.
      this.logger?.warn({ err: error, notification: row.id }, 'push not handled; retried later');
      return;
    }
    if (result === 'sent') this.metrics?.pushSent(row.kind);
    else if (result === 'failed') this.metrics?.pushFailed(row.kind);
    else if (result !== 'deferred') this.metrics?.pushDropped(row.kind, result);
  }

  private async decideAndSend(row: OutboxRow): Promise<Handled> {
    const [match, users, settingsRow, devices] = await Promise.all([
      findMatchById(this.db, row.match_id),
      findPartnerRows(this.db, [row.user_id]),
      findNotificationSettings(this.db, row.user_id),
      listPushSubscriptions(this.db, row.user_id),
    ]);
    const recipient = users[0];
    const settings = toSettings(settingsRow);
    const drop = async (reason: DropReason) => {
      await finishNotification(this.db, row);
      return reason;
    };
    if (!recipient || devices.length === 0) return drop('no_device');
    if (!settings.kinds[row.kind]) return drop('kind_off');
    // A match that is over is said so live (`match:ended`); nothing about it is pushed later.
    if (!match || match.status !== 'active' || match.expires_at <= new Date()) {
      return drop('match_over');
    }
    const [online] = await this.presence.isOnline([row.user_id], Date.now());
    if (online) return drop('online');
    // A premium user saw the whole profile from the start: a level tells them nothing.
    if (row.kind === 'unlock' && isPremium(recipient)) return drop('premium');

    const partnerId = partnerOf(match, row.user_id);
    let unread = 0;
    let latest;
    if (row.kind === 'message') {
      unread =
        (await countUnreadMessages(this.db, row.user_id, [match.id], UNREAD_COUNT_CAP)).get(
          match.id,
        ) ?? 0;
      if (unread === 0) return drop('read'); // read on another device meanwhile
      if (settings.previews) latest = await latestMessageFrom(this.db, match.id, partnerId);
    }
    const quietEnd = settings.quiet_hours && quietUntil(new Date(), settings.quiet_hours);
    if (quietEnd) {
      await deferNotification(this.db, row.id, quietEnd, { countAttempt: false });
      return 'deferred';
    }

    const [partner] = await findPartnerRows(this.db, [partnerId]);
    const payload = buildPushPayload({ row, match, recipient, partner, settings, unread, latest });
    const ttlSeconds = Math.max(60, Math.floor((match.expires_at.getTime() - Date.now()) / 1000));
    const outcomes = await Promise.all(
      devices.map((device) =>
        this.transport.send(device, JSON.stringify(payload), {
          topic: pushTopic(row),
          ttlSeconds,
          urgency: row.kind === 'expiring' || row.kind === 'message' ? 'high' : 'normal',
        }),
      ),
    );
    const failures: string[] = [];
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.outcome === 'gone') await forgetPushEndpoint(this.db, devices[i]!.endpoint);
      if (outcome.outcome === 'failed') failures.push(outcome.reason);
    }
    if (failures.length > 0) return this.retryOrGiveUp(row, failures);
    if (outcomes.every((o) => o.outcome === 'gone')) return drop('gone');
    await finishNotification(this.db, row);
    return 'sent';
  }

  /**
   * Some device's push service failed: all devices get it again after the backoff (the ones that
   * had it see the same Topic replace it), until `maxAttempts`.
   */
  private async retryOrGiveUp(row: OutboxRow, failures: string[]): Promise<Handled> {
    if (row.attempts >= this.options.maxAttempts) {
      this.logger?.warn({ notification: row.id, failures }, 'push given up');
      await finishNotification(this.db, row);
      return 'gave_up';
    }
    const backoff = Math.min(
      this.options.maxBackoffMs,
      this.options.baseBackoffMs * 2 ** (row.attempts - 1),
    );
    this.logger?.info({ notification: row.id, failures, backoff }, 'push failed; will retry');
    await deferNotification(this.db, row.id, new Date(Date.now() + backoff), {
      countAttempt: true,
    });
    return 'failed';
  }

  /** Drains every `intervalMs` (never two passes at once) until `stop`. */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void> {
    return this.periodic.stop();
  }
}
