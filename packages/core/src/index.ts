/**
 * What the apps use of core (and the system tests and load tests, through the package): the
 * composition (`createServices`) and what the edges need around it. Everything else is internal;
 * inside core, import it by path. The folders' layering is in ../README.md.
 */
export { hasRole, ROLES, type Principal, type Role, type RoleMapping } from './auth/roles';
export {
  EXTERNAL_ID_BASE,
  TokenService,
  type IdentityProvider,
  type TokenOptions,
} from './auth/tokens';
export { SIGNATURE_HEADER, WEBHOOK_TOLERANCE_MS } from './users/entitlements.service';
export { AppError, isDependencyUnavailable, toAppError } from './errors';
export { RateLimiter } from './limits/rate-limiter';
export { MessageWriter, type MessageWriterOptions } from './messages/message-writer';
export { RedisScoreCache } from './matches/score-cache';
export { PRESENCE_BUCKETS, RedisPresenceStore } from './presence/presence-store';
export { SocketCap } from './limits/socket-cap';
export type { ConnectingView } from './connecting-reads';
export type { Logger } from './logger';
export type { DomainMetrics } from './metrics';
export { socketIoKey, type RoomBroadcaster } from './realtime/realtime';
export { defaultDomainRules, type DomainRules } from './rules';
export {
  ContentFilter,
  type ContentFilterMode,
  type ContentFilterOptions,
} from './text/content-filter';
export { createServices, type DomainDeps, type Services } from './services';
export type { RedisClient } from './redis-client';
export {
  generateVapidKeys,
  WebPushTransport,
  type PushOutcome,
  type PushTransport,
  type VapidKeys,
} from './notifications/push-transport';
export type { DropReason, PushMetrics, PushSenderOptions } from './notifications/push-sender';
