import { randomBytes } from 'node:crypto';
import type { PresenceView } from '@mm/contract';
import {
  findLastActive,
  listActivePartnersLastSeen,
  type PartnerLastSeen,
  touchLastActive,
  partnerOf,
  type Database,
  type Match,
} from '@mm/db';
import type { Kysely } from 'kysely';
import { BatchLoader, CONNECTING_BATCH } from '../batch-loader';
import type { Logger } from '../logger';
import type { Realtime } from '../realtime/realtime';
import { isWithdrawn } from '../unlock/unlock-levels';
import type { Departure, PresenceEntry, PresenceStore } from './presence-store';

/** This process's sockets and their users: the socket cap's record (`SocketCap`). */
export interface LocalSockets {
  forEach(visit: (userId: number, socketId: string) => void): void;
}

/** Sockets the heartbeat refreshes at once (a script per bucket), before it starts on the next. */
const HEARTBEAT_SLICE = 500;

export interface PresenceOptions {
  /** How long a socket counts as connected without a refresh; pods refresh every third of it. */
  ttlMs: number;
}

/**
 * Who is online: a user is while any socket of theirs is connected on any pod. Each pod registers
 * its sockets in the store and refreshes them on a heartbeat (those `local` holds: a socket that
 * left it is no longer refreshed, and its entry expires unless removed), and every pod sweeps
 * entries that expired, so a pod that dies without closing its sockets cannot leave users online.
 * When a user's last socket goes, `last_seen_at` is stored (users.last_active_at) and their active
 * match partners hear `presence`.
 */
export class PresenceService {
  /** Names this process's entries, so two pods' socket ids never collide. */
  private readonly podId = randomBytes(6).toString('hex');
  private timer: NodeJS.Timeout | undefined;
  /**
   * Each user's active partners, read together for the users asked for at once: sockets
   * connecting at once (a dead pod's clients), and users coming online or going offline at once
   * (the same clients, and a sweep of the dead pod's entries when they are not back within the TTL).
   */
  private readonly partnersLastSeen = new BatchLoader<number, PartnerLastSeen[]>(
    (userIds) => listActivePartnersLastSeen(this.db, userIds),
    { ...CONNECTING_BATCH, missing: () => [] },
  );

  constructor(
    private readonly store: PresenceStore,
    private readonly db: Kysely<Database>,
    private readonly realtime: Realtime,
    private readonly local: LocalSockets,
    private readonly options: PresenceOptions,
  ) {}

  /** A socket of `userId` connected on this pod (and is in `local` until it goes). */
  async connected(userId: number, socketId: string): Promise<void> {
    const now = Date.now();
    const cameOnline = await this.store.add(
      userId,
      this.member(socketId),
      now + this.options.ttlMs,
      now,
    );
    if (cameOnline) await this.announce(userId, true, new Date(now));
  }

  /** A socket of `userId` disconnected from this pod. */
  async disconnected(userId: number, socketId: string): Promise<void> {
    const now = new Date();
    if (await this.store.remove(userId, this.member(socketId), now.getTime())) {
      await this.wentOffline([{ userId, lastSeenAt: now }]);
    }
  }

  /** Online now, and when last seen (now while online; null when never seen). */
  async status(userId: number): Promise<{ online: boolean; last_seen_at: string | null }> {
    const [view] = await this.statuses([userId]);
    return { online: view!.online, last_seen_at: view!.last_seen_at };
  }

  /**
   * The partner's presence as a participant of `match` may see it: none once the match ended by
   * block or unmatch (offline, never seen, whatever the partner does), as for a stranger.
   */
  async ofPartner(match: Match, viewerId: number): Promise<PresenceView> {
    const partnerId = partnerOf(match, viewerId);
    if (isWithdrawn(match)) return { user_id: partnerId, online: false, last_seen_at: null };
    return { user_id: partnerId, ...(await this.status(partnerId)) };
  }

  async statuses(userIds: number[]): Promise<PresenceView[]> {
    return this.viewsOf(userIds, (userId) => findLastActive(this.db, userId));
  }

  /**
   * The presence of each active match partner, last seen as read with the partners, for many
   * users at once. (A connecting socket's partners come with its unread total: `ConnectingReads`.)
   */
  async partnersOf(userId: number): Promise<PresenceView[]> {
    return this.presenceOf(await this.partnersLastSeen.load(userId));
  }

  /** The presence of these partners, each last seen when it says unless online now. */
  async presenceOf(partners: PartnerLastSeen[]): Promise<PresenceView[]> {
    const lastSeen = new Map(partners.map((p) => [p.partnerId, p.lastActiveAt ?? undefined]));
    return this.viewsOf([...lastSeen.keys()], async (partnerId) => lastSeen.get(partnerId));
  }

  /** Online now (and so seen now), or offline and last seen when `lastActive` says. */
  private async viewsOf(
    userIds: number[],
    lastActive: (userId: number) => Promise<Date | undefined>,
  ): Promise<PresenceView[]> {
    const now = Date.now();
    const online = await this.store.isOnline(userIds, now);
    return Promise.all(
      userIds.map(async (userId, i) => {
        if (online[i])
          return { user_id: userId, online: true, last_seen_at: new Date(now).toISOString() };
        const seen = await lastActive(userId);
        return { user_id: userId, online: false, last_seen_at: seen?.toISOString() ?? null };
      }),
    );
  }

  /**
   * Starts this pod's heartbeat (refreshing its sockets) and sweep (claiming users whose entries
   * expired, wherever they were). Only gateway pods run it; the API pods only read.
   */
  start(logger: Logger): void {
    const tick = () => {
      this.heartbeat()
        .then(() => this.sweep())
        .catch((error: unknown) => logger.warn({ err: error }, 'presence heartbeat failed'));
    };
    this.timer = setInterval(tick, Math.max(100, Math.floor(this.options.ttlMs / 3)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async heartbeat(): Promise<void> {
    const now = Date.now();
    const users: number[] = [];
    const sockets: string[] = [];
    this.local.forEach((userId, socketId) => {
      users.push(userId);
      sockets.push(socketId);
    });
    // A slice at a time: a beat of every socket at once held a command, a promise and a suspended
    // call per socket until Redis answered, enough for V8 to promote them to the old generation.
    let failure: unknown;
    for (let start = 0; start < users.length; start += HEARTBEAT_SLICE) {
      const end = Math.min(start + HEARTBEAT_SLICE, users.length);
      const entries: PresenceEntry[] = [];
      for (let i = start; i < end; i++) {
        entries.push({ userId: users[i]!, member: this.member(sockets[i]!) });
      }
      try {
        // Back after a pause longer than the TTL (swept meanwhile): online again.
        const back = await this.store.addMany(entries, now + this.options.ttlMs, now);
        await Promise.all(back.map((userId) => this.announce(userId, true, new Date(now))));
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  async sweep(): Promise<void> {
    const departures = await this.store.sweep(Date.now(), this.options.ttlMs);
    await this.wentOffline(departures);
  }

  private async wentOffline(departures: Departure[]): Promise<void> {
    await touchLastActive(
      this.db,
      departures.map((d) => ({ userId: d.userId, at: d.lastSeenAt })),
    );
    await Promise.all(departures.map((d) => this.announce(d.userId, false, d.lastSeenAt)));
  }

  private async announce(userId: number, online: boolean, at: Date): Promise<void> {
    const partners = await this.partnersLastSeen.load(userId);
    if (partners.length === 0) return;
    this.realtime.toUsers(
      partners.map((p) => p.partnerId),
      'presence',
      {
        user_id: userId,
        online,
        last_seen_at: at.toISOString(),
      },
    );
  }

  private member(socketId: string): string {
    return `${this.podId}:${socketId}`;
  }
}
