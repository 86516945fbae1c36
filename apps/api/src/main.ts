// A scaled API pod: Postgres for state, the Redis emitter to reach sockets on the gateway pods.
import { createServer } from 'node:http';
import { Emitter } from '@socket.io/redis-emitter';
import {
  closeHttpServer,
  closeOnSignal,
  connectRedis,
  createLogger,
  createMetrics,
  createServices,
  domainSettings,
  guardRequests,
  HealthChecks,
  listen,
  socketIoKey,
} from '@mm/core';
import { openDatabase } from '@mm/db';
import { createApi } from './app';
import { loadApiConfig } from './config';

async function main(): Promise<void> {
  const config = loadApiConfig();
  const logger = createLogger({ level: config.log.level, name: 'api' });
  const metrics = createMetrics('api');
  const database = await openDatabase(config.database, {
    onQuery: metrics.queryObserver(logger, config.observability.slowQueryMs),
  });
  metrics.observePool(database.pool);
  const redis = connectRedis(config.redis!.url, 'api-emitter', logger, {
    onError: metrics.redisErrorCounter('api-emitter'),
  });
  const emitter = new Emitter(redis, { key: socketIoKey(config.keyPrefix) });

  const services = createServices({
    db: database.db,
    broadcaster: emitter,
    ...domainSettings(config),
    redis,
    metrics,
    logger,
  });
  // Expiry and the secret-message purge run in every API pod; the sweep is safe concurrently.
  services.sweeper.start(config.rules.sweepIntervalMs);
  let draining = false;
  const health = new HealthChecks({
    db: database.db,
    pool: database.pool,
    redis: { emitter: redis },
    isDraining: () => draining,
    load: () => ({ in_flight_requests: metrics.inFlightRequests }),
  });
  const api = createApi({
    services,
    logger,
    devTokens: config.auth.devTokens,
    operations: { metrics, health },
    trustProxyHops: config.http.trustProxyHops,
  });
  const server = createServer(guardRequests(api, logger));
  const port = await listen(server, config.http.port, config.http.host);
  logger.info({ port }, 'api listening');

  closeOnSignal(logger, async () => {
    draining = true; // readiness answers 503 from now on, while requests in flight finish
    await closeHttpServer(server);
    await services.sweeper.stop();
    await database.close();
    await redis.quit();
    health.close();
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
