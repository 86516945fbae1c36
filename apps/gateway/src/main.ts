// A scaled gateway pod: sockets here, rooms shared with the other pods through Redis.
import { createServer } from 'node:http';
import {
  bootstrap,
  closeOnSignal,
  createLogger,
  guardServerRequests,
  listen,
  loadAppConfig,
  opsRequestHandler,
} from '@mm/platform';
import { GatewayDrain } from './drain';
import { InFlight } from './in-flight';
import { registerGateway } from './gateway';
import { instrumentGateway } from './metrics';
import { useRedisAdapter } from './redis-adapter';
import { createSocketServer } from './socket-server';

async function main(): Promise<void> {
  const config = loadAppConfig('scaled');
  const logger = createLogger({ level: config.log.level, name: 'gateway' });
  const platform = await bootstrap('gateway', config, logger);
  const { metrics } = platform;

  // The operations endpoints; Socket.IO takes /socket.io/ before this handler sees a request.
  const server = createServer((req, res) => {
    if (ops(req, res)) return;
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Not found.' } }));
  });
  const io = createSocketServer(server, {
    trustProxyHops: config.http.trustProxyHops,
    corsOrigins: config.http.corsOrigins,
  });
  guardServerRequests(server, logger); // Engine.IO's listener too: a throw is answered, no exit
  const adapter = useRedisAdapter(io, config.redis!, logger, metrics);
  const redis = platform.connectRedis('gateway-state');
  const services = platform.createServices(io, redis);
  instrumentGateway(io, metrics);
  const inFlight = new InFlight();
  // `drain.draining` is what readiness reports: unready from the first moment of a SIGTERM.
  const drain = new GatewayDrain(io, { windowMs: config.drain.windowMs, inFlight, logger });
  registerGateway(io, { services, logger, inFlight, isDraining: () => drain.draining });
  services.presence.start(logger);

  const health = platform.createHealthChecks({
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
      await platform.close();
    },
    config.drain.windowMs + 15_000,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
