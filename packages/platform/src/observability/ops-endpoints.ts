import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HealthChecks } from './health';
import type { Metrics } from './metrics';

/** What an app's operations endpoints read: its metrics and its health checks. */
export interface Operations {
  metrics: Metrics;
  health: HealthChecks;
}

interface OpsResponse {
  status: number;
  contentType: string;
  body: string;
}

const json = (status: number, body: unknown): OpsResponse => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});

/**
 * The operations endpoints, the same on every app: `/health` (status and resources),
 * `/health/live` (liveness: the process serves), `/health/ready` (readiness: 503 while draining or
 * while Postgres or Redis is unreachable), `/health/db-pool`, and `/metrics` (Prometheus).
 */
export function opsEndpoints({ metrics, health }: Operations) {
  return {
    '/health': async () => json(200, await health.report()),
    '/health/live': async () => json(200, health.live()),
    '/health/ready': async () => {
      const readiness = await health.ready();
      return json(readiness.ready ? 200 : 503, readiness);
    },
    '/health/db-pool': async () => json(200, health.dbPool()),
    '/metrics': async () => {
      const { contentType, body } = await metrics.exposition();
      return { status: 200, contentType, body };
    },
  } satisfies Record<string, () => Promise<OpsResponse>>;
}

export type OpsPath = keyof ReturnType<typeof opsEndpoints>;

/** Every operations path, for probes and scrapers (and the tests that check them). */
export const OPS_PATHS: readonly OpsPath[] = [
  '/health',
  '/health/live',
  '/health/ready',
  '/health/db-pool',
  '/metrics',
];

export const isOpsPath = (path: string): path is OpsPath =>
  (OPS_PATHS as readonly string[]).includes(path);

/**
 * A plain Node request handler for the operations endpoints, usable as Express middleware or on a
 * bare HTTP server. Returns false (and leaves the response alone) when the request is not for one.
 */
export function opsRequestHandler(
  operations: Operations,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const endpoints = opsEndpoints(operations);
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isOpsPath(path)) return false;
    endpoints[path]().then(
      (answer) => {
        res.writeHead(answer.status, {
          'content-type': answer.contentType,
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : answer.body);
      },
      () => {
        const reply = json(500, { error: { code: 'INTERNAL', message: 'Internal error.' } });
        res.writeHead(reply.status, { 'content-type': reply.contentType });
        res.end(reply.body);
      },
    );
    return true;
  };
}
