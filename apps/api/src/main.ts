// A scaled API pod: Postgres for state, a Socket.IO server that never listens (its Redis adapter
// only) to reach sockets on the gateway pods.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import {
  attachRoomAdapter,
  bootstrap,
  closeHttpServer,
  closeOnSignal,
  createLogger,
  guardRequests,
  listen,
  loadAppConfig,
  startPushSender,
} from '@mm/platform';
import { createApi } from './app';

async function main(): Promise<void> {
  const config = loadAppConfig('scaled');
  const logger = createLogger({ level: config.log.level, name: 'api' });
  const platform = await bootstrap('api', config, logger);
  const { metrics } = platform;
  const redis = platform.connectRedis('api-state', { countErrors: true });
  // The same adapter as the gateways', so a room is reached the same way from either: the
  // sharded adapter publishes with SPUBLISH, which @socket.io/redis-emitter (PUBLISH) cannot.
  // Its server is never attached to HTTP: it holds no sockets.
  const rooms = new Server();
  const adapter = attachRoomAdapter(rooms, config.redis!, logger, { name: 'api-adapter', metrics });

  const services = platform.createServices(rooms, redis);
  // Expiry and the secret-message purge run in every API pod; the sweep is safe concurrently.
  services.sweeper.start(config.rules.sweepIntervalMs);
  startPushSender(services, config, logger);
  let draining = false;
  const health = platform.createHealthChecks({
    redis: { state: redis, adapter_pub: adapter.pub, adapter_sub: adapter.sub },
    isDraining: () => draining,
    load: () => ({ in_flight_requests: metrics.inFlightRequests }),
  });
  const api = createApi({
    services,
    logger,
    devTokens: config.auth.devTokens,
    operations: { metrics, health },
    trustProxyHops: config.http.trustProxyHops,
    corsOrigins: config.http.corsOrigins,
  });
  const server = createServer(guardRequests(api, logger));
  const port = await listen(server, config.http.port, config.http.host);
  logger.info({ port }, 'api listening');

  closeOnSignal(logger, async () => {
    draining = true; // readiness answers 503 from now on, while requests in flight finish
    await closeHttpServer(server);
    await services.sweeper.stop();
    await services.pushSender?.stop();
    await adapter.close();
    await platform.close();
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
