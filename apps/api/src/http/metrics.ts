import type { Request, RequestHandler } from 'express';
import { isOpsPath, type Metrics } from '@mm/platform';

/**
 * Times every request into `mm_http_request_duration_seconds` by route pattern (never the raw
 * path, whose ids would make a series per user) and status, and counts requests in flight.
 */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    metrics.inFlightRequests++;
    // 'close' comes for finished and aborted requests alike.
    res.once('close', () => {
      metrics.inFlightRequests--;
      stop({ method: req.method, route: routePattern(req), status: String(res.statusCode) });
    });
    next();
  };
}

function routePattern(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  if (route?.path !== undefined) return `${req.baseUrl}${String(route.path)}`;
  const path = req.originalUrl.split('?')[0]!;
  return isOpsPath(path) ? path : 'unmatched';
}
