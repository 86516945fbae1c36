import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import {
  createMetrics,
  HealthChecks,
  OPS_PATHS,
  type Logger,
  type Operations,
  type Services,
} from '@mm/core';
import { docsRoutes } from './http/docs';
import { errorCodesDescription } from './http/error-docs';
import { errorHandler, notFound } from './http/errors';
import { httpMetrics } from './http/metrics';
import { callerKey, clientIp, rateLimit } from './http/rate-limit';
import { mountRoutes, openApiDocument, type AnyRouteSpec } from './http/route-table';
import { devTokenRoutes } from './routes/auth.routes';
import { discoveryRoutes } from './routes/discovery.routes';
import { healthRoutes } from './routes/health.routes';
import { moderationRoutes } from './routes/moderation.routes';
import { mysteryRoutes } from './routes/mystery.routes';
import { photoRoutes } from './routes/photos.routes';
import { userRoutes } from './routes/users.routes';

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
}

/** Every REST route of the API, once: mounted and documented from this one list. */
export function apiRoutes({ services, devTokens }: Pick<ApiDeps, 'services' | 'devTokens'>) {
  const routes: AnyRouteSpec[] = [
    ...(devTokens ? devTokenRoutes(services.tokens) : []),
    ...userRoutes(services),
    ...mysteryRoutes(services),
    ...moderationRoutes(services),
    ...discoveryRoutes(services),
    ...photoRoutes(services),
  ];
  return routes;
}

/** The REST app, not listening: the scaled main, the embedded default and tests mount it. */
export function createApi({
  services,
  logger,
  devTokens,
  operations,
  trustProxyHops = 1,
}: ApiDeps): Express {
  const ops = operations ?? standaloneOperations();
  const app = express();
  app.disable('x-powered-by');
  // A hop count, not `true`: with `true` the client's own X-Forwarded-For entry would be taken as
  // its address, and anyone could step around the per-address rate limit.
  app.set('trust proxy', trustProxyHops);
  app.use(httpMetrics(ops.metrics));
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
  app.use(express.json({ limit: '100kb' }));
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
