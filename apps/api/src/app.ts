import cors from 'cors';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { type Services } from '@mm/core';
import { createMetrics, HealthChecks, OPS_PATHS, type Logger, type Operations } from '@mm/platform';
import { docsRoutes } from './http/docs';
import { errorCodesDescription } from './http/error-docs';
import { errorHandler, notFound } from './http/errors';
import { httpMetrics } from './http/metrics';
import { callerKey, clientIp, rateLimit } from './http/rate-limit';
import { mountRoutes, openApiDocument, withMeForms, type AnyRouteSpec } from './http/route-table';
import { adminRoutes } from './routes/admin.routes';
import { devTokenRoutes } from './routes/auth.routes';
import { discoveryRoutes } from './routes/discovery.routes';
import { healthRoutes } from './routes/health.routes';
import { matchRoutes } from './routes/matches.routes';
import { messageRoutes } from './routes/messages.routes';
import { moderationRoutes } from './routes/moderation.routes';
import { notificationRoutes } from './routes/notifications.routes';
import { moderationDeskRoutes } from './routes/moderation-desk.routes';
import { photoRoutes } from './routes/photos.routes';
import { presenceRoutes } from './routes/presence.routes';
import { secretChatRoutes } from './routes/secret-chat.routes';
import { statsRoutes } from './routes/stats.routes';
import { userRoutes } from './routes/users.routes';
import { webhookRoutes } from './routes/webhooks.routes';

export interface ApiDeps {
  services: Services;
  logger: Logger;
  devTokens: boolean;
  /**
   * Metrics and health checks of the process. The scaled main and the embedded default pass theirs
   * (with the database, Redis and drain state); without, the app gets a registry of its own and a
   * readiness that checks nothing.
   */
  operations?: Operations;
  /** Proxies in front that append to X-Forwarded-For (`TRUST_PROXY_HOPS`); 1 unless said. */
  trustProxyHops?: number;
  /** The other origins a browser app may call from (`CORS_ORIGINS`); none unless said. */
  corsOrigins?: string[];
}

/** Every REST route of the API, once: mounted and documented from this one list. */
export function apiRoutes({ services, devTokens }: Pick<ApiDeps, 'services' | 'devTokens'>) {
  const routes: AnyRouteSpec[] = withMeForms([
    ...(devTokens ? devTokenRoutes(services.tokens) : []),
    ...userRoutes(services),
    ...matchRoutes(services),
    ...secretChatRoutes(services),
    ...messageRoutes(services),
    ...presenceRoutes(services),
    ...statsRoutes(services),
    ...moderationRoutes(services),
    ...discoveryRoutes(services),
    ...photoRoutes(services),
    ...adminRoutes(services),
    ...moderationDeskRoutes(services),
    ...(services.entitlements.webhookEnabled === true ? webhookRoutes(services) : []),
    ...notificationRoutes(services),
  ]);
  return routes;
}

/** The REST app, not listening: the scaled main, the embedded default and tests mount it. */
export function createApi({
  services,
  logger,
  devTokens,
  operations,
  trustProxyHops = 1,
  corsOrigins = [],
}: ApiDeps): Express {
  const ops = operations ?? standaloneOperations();
  const app = express();
  app.disable('x-powered-by');
  // A hop count, not `true`: with `true` the client's own X-Forwarded-For entry would be taken as
  // its address, and anyone could step around the per-address rate limit.
  app.set('trust proxy', trustProxyHops);
  app.use(httpMetrics(ops.metrics));
  ops.metrics.observeReportQueue(() => services.moderationDesk.oldestOpenReportAgeSeconds());
  // Only the listed origins get Access-Control-Allow-Origin (preflights included, answered here
  // before any limit or route); the service's own origin needs none.
  app.use(cors({ origin: corsOrigins, credentials: true }));
  const quiet = new Set<string>(OPS_PATHS); // probes and scrapes every few seconds: not logged
  app.use(pinoHttp({ logger, autoLogging: { ignore: (req) => quiet.has(req.url ?? '') } }));

  const routes = apiRoutes({ services, devTokens });
  app.use(healthRoutes(ops));
  app.use(
    docsRoutes(
      openApiDocument(routes, {
        title: 'Mystery Match API',
        version: '0.1.0',
        description:
          'The match lifecycle over REST; the chat itself runs over Socket.IO.\n\n' +
          errorCodesDescription(),
      }),
    ),
  );
  // Health, metrics and docs (above) are not limited; every other /api request is, per address,
  // before its body is read and before authentication, so a flood of bad tokens or large bodies
  // is limited too; then per user after authentication.
  app.use('/api', rateLimit(services.httpLimits.perIp, clientIp(trustProxyHops), logger));
  // The raw bytes are kept beside the parsed body: a signed webhook's HMAC is over them.
  app.use(
    express.json({
      limit: '100kb',
      verify: (req, _res, bytes) => {
        (req as typeof req & { rawBody?: Buffer }).rawBody = bytes;
      },
    }),
  );
  app.use(
    mountRoutes(routes, {
      tokens: services.tokens,
      before: [rateLimit(services.httpLimits.perUser, callerKey, logger)],
      requireActiveAccount: (userId) => services.users.requireActiveAccount(userId),
    }),
  );

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}

function standaloneOperations(): Operations {
  const metrics = createMetrics('api');
  return {
    metrics,
    health: new HealthChecks({ load: () => ({ in_flight_requests: metrics.inFlightRequests }) }),
  };
}
