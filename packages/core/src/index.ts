/**
 * What the apps use of core (and the system tests and load tests, through the package): the
 * composition (`createServices`) and what the edges need around it. Everything else is internal;
 * inside core, import it by path. The folders' layering is in ../README.md.
 */
export * from './config/env';
export * from './observability/health';
export * from './observability/metrics';
export * from './observability/ops-endpoints';
export * from './observability/resources';
export * from './runtime/listen';
export * from './runtime/redis';
export * from './runtime/retry';
export * from './runtime/shutdown';
export { TokenService } from './auth/tokens';
export { AppError, toAppError } from './errors';
export { clientAddress } from './limits/client-address';
export { RateLimiter } from './limits/rate-limiter';
export { SocketCap } from './limits/socket-cap';
export { createLogger, type Logger } from './logger';
export { socketIoKey } from './realtime/realtime';
export { createServices, domainSettings, type Services } from './services';
