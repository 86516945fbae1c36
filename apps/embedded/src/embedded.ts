import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { createApi } from '@mm/api';
import {
  createMetrics,
  createServices,
  domainSettings,
  HealthChecks,
  retryWhileUnavailable,
  type AppConfig,
  type Logger,
  type Operations,
  type Services,
} from '@mm/core';
import { migrateToLatest, openDatabase } from '@mm/db';
import { createSocketServer, instrumentGateway, registerGateway } from '@mm/gateway';
import { webClientDir, withWebClient } from './web-client';

export interface EmbeddedService {
  server: Server;
  /** The domain services the API and gateway share (tests drive them directly). */
  services: Services;
  /** Its metrics and health checks (one registry for both apps: they share the process). */
  operations: Operations;
  close(): Promise<void>;
}

/**
 * The whole service in one process: the REST API and the Socket.IO gateway on one HTTP server,
 * PGlite (or DATABASE_URL when set) migrated at start, and Socket.IO's in-memory adapter, which is
 * also the broadcaster the API's side effects go through.
 */
export async function startEmbedded(config: AppConfig, logger: Logger): Promise<EmbeddedService> {
  if (config.database.kind === 'pglite') mkdirSync(config.database.dataDir, { recursive: true });
  const metrics = createMetrics('embedded');
  const database = await openDatabase(
    config.database,
    metrics.databaseObserver(logger, config.observability.slowQueryMs),
  );
  metrics.observePool(database.pool);
  // A PostgreSQL restarting (or not up yet) at start-up is waited for, not a reason to exit.
  await retryWhileUnavailable(
    'migrating',
    () =>
      migrateToLatest(
        database.db,
        config.database.kind === 'postgres' ? config.database.schema : undefined,
      ),
    logger,
  );

  const server = createServer();
  const io = createSocketServer(server);
  const services = createServices({
    db: database.db,
    broadcaster: io,
    ...domainSettings(config),
    metrics,
    logger,
  });
  services.sweeper.start(config.rules.sweepIntervalMs);
  instrumentGateway(io, metrics);
  registerGateway(io, { services, logger });
  services.presence.start(logger);
  let draining = false;
  const health = new HealthChecks({
    db: database.db,
    pool: database.pool,
    isDraining: () => draining,
    checkTimeoutMs: config.observability.healthCheckTimeoutMs,
    load: () => ({
      sockets: io.engine.clientsCount,
      in_flight_requests: metrics.inFlightRequests,
    }),
  });
  const operations = { metrics, health };
  const api = createApi({
    services,
    logger,
    devTokens: config.auth.devTokens,
    operations,
    trustProxyHops: config.http.trustProxyHops,
  });
  const web = webClientDir();
  if (!web) logger.warn('the web client is not built (turbo run build): serving the API only');
  server.on('request', web ? withWebClient(api, web) : api);

  return {
    server,
    services,
    operations,
    async close() {
      draining = true;
      services.presence.stop();
      await io.close(); // disconnects every socket and closes the HTTP server
      await services.sweeper.stop();
      await database.close();
      health.close();
    },
  };
}
