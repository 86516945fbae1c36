import { mkdirSync } from 'node:fs';
import {
  createServices,
  WebPushTransport,
  type DomainDeps,
  type RoomBroadcaster,
  type Services,
} from '@mm/core';
import { migrateToLatest, openDatabase, type DatabaseHandle } from '@mm/db';
import type { AppConfig } from './config/env';
import type { Logger } from './logger';
import { HealthChecks, type HealthDeps } from './observability/health';
import { createMetrics, type Metrics } from './observability/metrics';
import { connectRedis, quitRedis, type RedisConnection } from './runtime/redis';
import { retryWhileUnavailable } from './runtime/retry';

/** The part of `DomainDeps` read straight off the app's configuration, the same for every app. */
export function domainSettings(
  config: AppConfig,
): Pick<
  DomainDeps,
  'jwtSecret' | 'tokens' | 'profileRefSecret' | 'entitlementsWebhookSecret' | 'rules' | 'keyPrefix'
> {
  const { jwtSecret, tokens, profileRefSecret, entitlementsWebhookSecret } = config.auth;
  return {
    jwtSecret,
    ...(tokens && { tokens }),
    ...(profileRefSecret && { profileRefSecret }),
    ...(entitlementsWebhookSecret && { entitlementsWebhookSecret }),
    rules: config.rules,
    keyPrefix: config.keyPrefix,
  };
}

/** What every composition root starts from; each adds its own servers and sockets around it. */
export interface Bootstrap {
  /** The process's metrics, `app` a label on every series. */
  metrics: Metrics;
  /** The database, every query timed (a slow one logged) and its pool observed. */
  database: DatabaseHandle;
  /**
   * A connection to `config.redis` (scaled mode), within its timeouts, closed by `close`.
   * `countErrors`: its connection errors count in `mm_redis_adapter_errors_total`.
   */
  connectRedis(name: string, options?: { countErrors?: boolean }): RedisConnection;
  /** The domain services on this database, reaching sockets through `broadcaster`. */
  createServices(broadcaster: RoomBroadcaster, redis?: RedisConnection): Services;
  /** Liveness and readiness: the database always, the Redis connections and load named here. */
  createHealthChecks(deps: Pick<HealthDeps, 'redis' | 'isDraining' | 'load'>): HealthChecks;
  /** Closes what it opened: the Redis connections, the database, the health checks. */
  close(): Promise<void>;
}

/**
 * Opens what the API, the gateway and the embedded default share, the same way in each: metrics
 * named `app`, the database with the metrics' hooks (PGlite's directory created first), and with
 * `migrate` the schema migrated, waiting while PostgreSQL restarts (or is not up yet) rather than
 * exiting.
 */
export async function bootstrap(
  app: string,
  config: AppConfig,
  logger: Logger,
  { migrate = false }: { migrate?: boolean } = {},
): Promise<Bootstrap> {
  if (config.database.kind === 'pglite') mkdirSync(config.database.dataDir, { recursive: true });
  const metrics = createMetrics(app);
  const database = await openDatabase(
    config.database,
    metrics.databaseObserver(logger, config.observability.slowQueryMs),
  );
  metrics.observePool(database.pool);
  if (migrate) {
    const schema = config.database.kind === 'postgres' ? config.database.schema : undefined;
    await retryWhileUnavailable('migrating', () => migrateToLatest(database.db, schema), logger);
  }

  const connections: RedisConnection[] = [];
  const healthChecks: HealthChecks[] = [];
  return {
    metrics,
    database,
    connectRedis(name, { countErrors = false } = {}) {
      if (!config.redis) throw new Error(`${app}: ${name} needs REDIS_URL`);
      const redis = connectRedis(config.redis, name, logger, {
        ...(countErrors && { onError: metrics.redisErrorCounter(name) }),
      });
      connections.push(redis);
      return redis;
    },
    createServices: (broadcaster, redis) =>
      createServices({
        db: database.db,
        broadcaster,
        ...domainSettings(config),
        ...(redis && { redis }),
        metrics,
        logger,
        ...(config.push && {
          push: {
            transport: new WebPushTransport(config.push.vapid),
            options: { leaseMs: config.push.leaseMs },
            publicKey: config.push.vapid.publicKey,
          },
        }),
      }),
    createHealthChecks(deps) {
      const health = new HealthChecks({
        db: database.db,
        pool: database.pool,
        checkTimeoutMs: config.observability.healthCheckTimeoutMs,
        ...deps,
      });
      healthChecks.push(health);
      return health;
    },
    async close() {
      for (const redis of connections) await quitRedis(redis);
      await database.close();
      for (const health of healthChecks) health.close();
    },
  };
}

/**
 * Starts the push sender when push is configured, and says at start-up either way. It runs in
 * every API pod (and the embedded default): claims are SKIP LOCKED with a lease (docs/design.md
 * §9). `services.pushSender.stop()` stops it.
 */
export function startPushSender(services: Services, config: AppConfig, logger: Logger): void {
  if (services.pushSender && config.push) {
    services.pushSender.start(config.push.intervalMs);
    logger.info('push notifications on: sending Web Push from the outbox');
  } else {
    logger.warn(
      'push notifications off: set VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT to send them',
    );
  }
}
