import { Router } from 'express';
import { healthReport } from '@mm/core';

/** Liveness and status; readiness and resource details grow here. */
export function healthRoutes(): Router {
  return Router()
    .get('/health', (_req, res) => {
      res.json(healthReport());
    })
    .get('/', (_req, res) => {
      res.json({ service: 'mystery-match', status: 'ok', docs: '/health' });
    });
}
