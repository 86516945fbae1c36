import { createServer, type RequestListener, type Server } from 'node:http';
import { createApi } from '@mm/api';
import type { Services } from '@mm/core';
import {
  createSocketServer,
  instrumentGateway,
  registerGateway,
  type GatewayServer,
} from '@mm/gateway';
import {
  bootstrap,
  guardServerRequests,
  startPushSender,
  type AppConfig,
  type Logger,
  type Operations,
} from '@mm/platform';
import { webClientDir, withWebClient } from './web-client';

export interface EmbeddedService {
  server: Server;
  /** The domain services the API and gateway share (tests drive them directly). */
  services: Services;
  /** The Socket.IO server (tests reach its sockets directly). */
  io: GatewayServer;
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
  // A PostgreSQL restarting (or not up yet) at start-up is waited for, not a reason to exit.
  const platform = await bootstrap('embedded', config, logger, { migrate: true });
  const { metrics } = platform;

  // The request handler is on the server before Socket.IO attaches: Engine.IO then takes
  // /socket.io/ requests and hands every other one to it. Added after (`server.on('request')`),
  // it would answer long-polling requests too, and the second answer to one request throws.
  // The app itself needs the services, which need the Socket.IO server: it is bound below.
  const http: { app?: RequestListener } = {};
  const server = createServer((req, res) => {
    if (http.app) return http.app(req, res);
    res.writeHead(503).end();
  });
  const io = createSocketServer(server, {
    trustProxyHops: config.http.trustProxyHops,
    corsOrigins: config.http.corsOrigins,
  });
  guardServerRequests(server, logger); // what any listener throws: answered and logged, no exit
  const services = platform.createServices(io);
  services.sweeper.start(config.rules.sweepIntervalMs);
  startPushSender(services, config, logger);
  instrumentGateway(io, metrics);
  registerGateway(io, { services, logger });
  services.presence.start(logger);
  let draining = false;
  const health = platform.createHealthChecks({
    isDraining: () => draining,
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
    corsOrigins: config.http.corsOrigins,
  });
  const web = webClientDir();
  if (!web) logger.warn('the web client is not built (turbo run build): serving the API only');
  http.app = web ? withWebClient(api, web) : api;

  return {
    server,
    services,
    io,
    operations,
    async close() {
      draining = true;
      services.presence.stop();
      await io.close(); // disconnects every socket and closes the HTTP server
      await services.sweeper.stop();
      await services.pushSender?.stop();
      await platform.close();
    },
  };
}
