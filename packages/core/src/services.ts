import { externalUserId, type Database } from '@mm/db';
import type { RedisClient } from './redis-client';
import type { Kysely } from 'kysely';
import { TokenService, type TokenOptions } from './auth/tokens';
import type { Logger } from './logger';
import { MatchService } from './matches/match.service';
import { ContentFilter } from './text/content-filter';
import { ModerationDeskService } from './moderation/moderation-desk.service';
import { MatchSweeper } from './matches/match-sweeper';
import { MemoryScoreCache, RedisScoreCache } from './matches/score-cache';
import { SecretChatService } from './matches/secret-chat.service';
import { ModerationService } from './moderation/moderation.service';
import { MessageService } from './messages/message.service';
import { MessageWriter } from './messages/message-writer';
import type { DomainMetrics } from './metrics';
import { ReadReceiptService } from './messages/read-receipt.service';
import { SyncService } from './messages/sync.service';
import { UnreadTotals } from './messages/unread-totals';
import { ConnectingReads } from './connecting-reads';
import { RateLimiter } from './limits/rate-limiter';
import { SocketCap } from './limits/socket-cap';
import { DiscoveryService } from './profiles/discovery.service';
import { ProfileRefs } from './profiles/profile-refs';
import { PresenceService } from './presence/presence.service';
import { MemoryPresenceStore, RedisPresenceStore } from './presence/presence-store';
import { Realtime, type RoomBroadcaster } from './realtime/realtime';
import { PhotoService } from './photos/photo.service';
import type { DomainRules } from './rules';
import { MatchViews } from './unlock/match-views';
import { EntitlementService } from './users/entitlements.service';
import { UserService } from './users/user.service';
import { NotificationService } from './notifications/notification.service';
import {
  DEFAULT_PUSH_SENDER_OPTIONS,
  PushSender,
  type PushSenderOptions,
} from './notifications/push-sender';
import type { PushTransport } from './notifications/push-transport';

/** What the domain needs from outside; the embedded default and scaled mode differ only here. */
export interface DomainDeps {
  db: Kysely<Database>;
  broadcaster: RoomBroadcaster;
  /** Signs development tokens and verifies HS256 ones (see `tokens`); keys discovery refs. */
  jwtSecret: string;
  /**
   * How bearer tokens are verified beyond the HS256 secret: an identity provider's keys, whether
   * HS256 is accepted at all, how roles are read. HS256 only, `role` claim only, when absent.
   */
  tokens?: Omit<TokenOptions, 'secret' | 'externalUserId'>;
  /** Key of discovery references when the HS256 secret is not the deployment's own. */
  profileRefSecret?: string;
  /** The entitlements webhook's HMAC secret; without one the webhook is off. */
  entitlementsWebhookSecret?: string;
  rules: DomainRules;
  /** Shared state across pods (caches, rate limits, presence); absent in the embedded default. */
  redis?: RedisClient;
  /** Prefix of every key the domain keeps, in Redis or in memory. */
  keyPrefix: string;
  /** The process's metrics: the domain counts what only it knows (messages sent). */
  metrics?: DomainMetrics;
  /** Where the domain logs what it handles itself (a cache that is down, a failed sweep). */
  logger?: Logger;
  /** How pushes leave (Web Push with the VAPID keys); absent: push is off, nothing is sent. */
  push?: {
    transport: PushTransport;
    options?: Partial<PushSenderOptions>;
    /** The VAPID public key browsers subscribe with (`applicationServerKey`). */
    publicKey?: string;
  };
}

export type Services = ReturnType<typeof createServices>;

export function createServices(deps: DomainDeps) {
  const realtime = new Realtime(deps.broadcaster);
  const contentFilter = new ContentFilter(deps.rules.contentFilter);
  const users = new UserService(deps.db, deps.rules, realtime, contentFilter);
  const scores = deps.redis
    ? new RedisScoreCache(deps.redis, {
        keyPrefix: deps.keyPrefix,
        ...(deps.logger && { logger: deps.logger }),
      })
    : new MemoryScoreCache(deps.keyPrefix);
  const views = new MatchViews(deps.db, realtime, contentFilter);
  const profileRefs = new ProfileRefs(deps.profileRefSecret ?? deps.jwtSecret);
  const matches = new MatchService(deps.db, realtime, deps.rules, scores, views);
  const writer = new MessageWriter(deps.db, {
    maxBatch: deps.rules.messageBatchMax,
    lanes: deps.rules.messageWriteLanes,
    minIntervalMs: deps.rules.messageWriteIntervalMs,
    ...(deps.metrics && { onBatch: (size: number) => deps.metrics!.messageBatchWritten(size) }),
    secretTtlMs: deps.rules.secretMessageTtlMs,
  });
  // A Redis round trip per send for this count was the costliest step the relay does not have:
  // leasing a tenth of the limit (at most 10 points) per trip took a fifth off the pods' CPU per
  // message and a hop off most sends (docs/benchmarks.md). The price: a user sending from several
  // pods in one window may be refused up to a lease early on each other pod.
  const messageLimiter = new RateLimiter(
    { name: 'message', ...deps.rules.messageRate },
    {
      ...(deps.redis && { redis: deps.redis }),
      keyPrefix: deps.keyPrefix,
      leaseSize: Math.min(10, Math.floor(deps.rules.messageRate.points / 10)),
    },
  );
  const unread = new UnreadTotals(deps.db, realtime, deps.logger);
  const messages = new MessageService(
    deps.db,
    writer,
    matches,
    realtime,
    messageLimiter,
    views,
    unread,
    deps.rules.unsendWindowSeconds,
    deps.metrics,
    deps.logger,
    contentFilter,
  );
  // REST and handshake limits fail fast while Redis is away: requests and handshakes go through
  // then (and it is logged) rather than wait until Redis is back.
  const edgeLimiter = (name: string, rate: { points: number; windowSeconds: number }) =>
    rate.points > 0
      ? new RateLimiter(
          { name, ...rate },
          { ...(deps.redis && { redis: deps.redis }), keyPrefix: deps.keyPrefix, failFast: true },
        )
      : undefined;
  const presenceStore = deps.redis
    ? new RedisPresenceStore(deps.redis, deps.keyPrefix, deps.rules.presenceTtlMs)
    : new MemoryPresenceStore();
  // Its heartbeat refreshes the sockets the cap holds: one record of this process's sockets.
  const socketsPerUser = new SocketCap(deps.rules.maxSocketsPerUser);
  const presence = new PresenceService(presenceStore, deps.db, realtime, socketsPerUser, {
    ttlMs: deps.rules.presenceTtlMs,
  });
  return {
    tokens: new TokenService({
      ...deps.tokens,
      secret: deps.jwtSecret,
      externalUserId: (issuer, subject) => externalUserId(deps.db, issuer, subject),
    }),
    entitlements: new EntitlementService(deps.db, deps.entitlementsWebhookSecret),
    users,
    discovery: new DiscoveryService(deps.db, profileRefs),
    profileRefs,
    matches,
    messages,
    sync: new SyncService(deps.db, contentFilter),
    receipts: new ReadReceiptService(deps.db, realtime, unread),
    unread,
    /** What the gateway tells each socket on connect: its unread total and partners' presence. */
    connecting: new ConnectingReads(deps.db),
    presence,
    realtime,
    /** REST request limits (absent when configured off); the API applies them. */
    httpLimits: {
      perIp: edgeLimiter('rest-ip', deps.rules.httpRate.perIp),
      perUser: edgeLimiter('rest-user', deps.rules.httpRate.perUser),
    },
    /** What a gateway admits: handshakes per client address (absent when off), sockets per user. */
    connectionLimits: {
      handshakesPerIp: edgeLimiter('handshake-ip', deps.rules.handshakeRatePerIp),
      socketsPerUser,
    },
    photos: new PhotoService(
      deps.db,
      matches,
      deps.rules.photoMaxBytes,
      !deps.rules.autoApproveProfiles,
    ),
    secretChat: new SecretChatService(deps.db, matches, realtime, views),
    moderation: new ModerationService(
      deps.db,
      matches,
      realtime,
      new RateLimiter(
        { name: 'report', ...deps.rules.reportRate },
        { ...(deps.redis && { redis: deps.redis }), keyPrefix: deps.keyPrefix },
      ),
    ),
    moderationDesk: new ModerationDeskService(deps.db, realtime),
    /** Not started here: the API process and the embedded default start it (`start`/`stop`). */
    sweeper: new MatchSweeper(deps.db, realtime, deps.rules.expiryWarningMs, deps.logger),
    notifications: new NotificationService(deps.db),
    /** What a browser needs to subscribe: push on, and the server's VAPID public key. */
    pushConfig: {
      enabled: deps.push !== undefined,
      vapid_public_key: deps.push?.publicKey ?? null,
    },
    /**
     * Not started here, and absent while push is off (the outbox still fills, and is sent once it
     * is configured). The API process and the embedded default start it.
     */
    pushSender:
      deps.push &&
      new PushSender(
        deps.db,
        deps.push.transport,
        presenceStore,
        { ...DEFAULT_PUSH_SENDER_OPTIONS, ...deps.push.options },
        deps.metrics,
        deps.logger,
      ),
  };
}
