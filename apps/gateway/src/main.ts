// A scaled gateway pod: sockets here, rooms shared with the other pods through Redis.
import { createServer } from 'node:http';
import {
  closeOnSignal,
  connectRedis,
  createLogger,
  createMetrics,
  createServices,
  domainSettings,
  guardServerRequests,
  HealthChecks,
  listen,
  opsRequestHandler,
  quitRedis,
} from '@mm/core';
import { openDatabase } from '@mm/db';
import { loadGatewayConfig } from './config';
import { GatewayDrain } from './drain';
import { InFlight } from './in-flight';
import { registerGateway } from './gateway';
import { instrumentGateway } from './metrics';
import { useRedisAdapter } from './redis-adapter';
import { createSocketServer } from './socket-server';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ level: config.log.level, name: 'gateway' });
  const metrics = createMetrics('gateway');
  const database = await openDatabase(config.database, {
    onQuery: metrics.queryObserver(logger, config.observability.slowQueryMs),
  });
  metrics.observePool(database.pool);

  // The operations endpoints; Socket.IO takes /socket.io/ before this handler sees a request.
  const server = createServer((req, res) => {
    if (ops(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found.' } }));
  });
  const io = createSocketServer(server, { trustProxyHops: config.http.trustProxyHops });
  guardServerRequests(server, logger); // Engine.IO's listener too: a throw is answered, no exit
  const adapter = useRedisAdapter(io, config.redis!.url, config.redis!.prefix, logger, metrics);
  const redis = connectRedis(config.redis!.url, 'gateway-state', logger);
  const services = createServices({
    db: database.db,
    broadcaster: io,
    ...domainSettings(config),
    redis,
    metrics,
    logger,
  });
  instrumentGateway(io, metrics);
  const inFlight = new InFlight();
  // `drain.draining` is what readiness reports: unready from the first moment of a SIGTERM.
  const drain = new GatewayDrain(io, { windowMs: config.drain.windowMs, inFlight, logger });
  registerGateway(io, { services, logger, inFlight, isDraining: () => drain.draining });
  services.presence.start(logger);

  const health = new HealthChecks({
    db: database.db,
    pool: database.pool,
    redis: { adapter_pub: adapter.pub, adapter_sub: adapter.sub, state: redis },
    isDraining: () => drain.draining,
    load: () => ({ sockets: io.engine.clientsCount }),
  });
  const ops = opsRequestHandler({ metrics, health });

  const port = await listen(server, config.http.port, config.http.host);
  logger.info({ port }, 'gateway listening');

  closeOnSignal(
    logger,
    async () => {
      await drain.drain(); // unready, clients moved off in batches, their work finished
      services.presence.stop();
      await io.close(); // closes the HTTP server
      await adapter.close();
      await quitRedis(redis);
      await database.close();
      health.close();
    },
    config.drain.windowMs + 15_000,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
