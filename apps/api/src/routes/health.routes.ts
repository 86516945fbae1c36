import { Router } from 'express';
import { opsRequestHandler, type Operations } from '@mm/platform';

/**
 * The operations endpoints (`/health`, `/health/live`, `/health/ready`, `/health/db-pool`,
 * `/metrics`), served by the same handler as on the gateway, and the service's index.
 */
export function healthRoutes(operations: Operations): Router {
  const ops = opsRequestHandler(operations);
  return Router()
    .use((req, res, next) => {
      if (!ops(req, res)) next();
    })
    .get('/', (_req, res) => {
      res.json({ service: 'mystery-match', status: 'ok', docs: '/health' });
    });
}
