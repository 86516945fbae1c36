import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger, Services } from '@mm/core';
import { authenticate } from './http/authenticate';
import { errorHandler, notFound } from './http/errors';
import { devTokenRoutes } from './routes/auth.routes';
import { healthRoutes } from './routes/health.routes';
import { mysteryRoutes } from './routes/mystery.routes';
import { userRoutes } from './routes/users.routes';

export interface ApiDeps {
  services: Services;
  logger: Logger;
  devTokens: boolean;
}

/** The REST app, not listening: the scaled main, the embedded default and tests mount it. */
export function createApi({ services, logger, devTokens }: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(pinoHttp({ logger, autoLogging: { ignore: (req) => req.url === '/health' } }));
  app.use(express.json({ limit: '100kb' }));

  app.use(healthRoutes());
  if (devTokens) app.use(devTokenRoutes(services.tokens));
  app.use('/api', authenticate(services.tokens));
  app.use(userRoutes(services));
  app.use(mysteryRoutes(services));

  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
