import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toAppError } from '@mm/core';
import type { Logger } from '../logger';

/**
 * Connections the kernel may hold for the process before it accepts them (capped by the host's
 * `net.core.somaxconn`, 4096 on current Linux). Node's default, 511, overflows when a dead gateway
 * pod's clients all reconnect to the others within a second: each connection dropped so is retried
 * by the client's TCP only 1, 3, 7, 15 s later (benchmarks.md, "A reconnect storm").
 */
export const LISTEN_BACKLOG = 4096;

/** Starts listening and resolves with the bound port (useful with port 0). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, LISTEN_BACKLOG, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Closes the HTTP server, ending idle keep-alive connections so close does not wait on them. */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeIdleConnections();
  });
}

/**
 * A request listener whose throw cannot end the process: what `handle` throws while it runs is
 * logged and answered with a 500, or the connection is dropped when an answer had already begun.
 * (Express catches what its handlers throw; this is the net under everything else on the server.)
 */
export function guardRequests(handle: RequestListener, logger: Logger): RequestListener {
  return (req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      logger.error({ err: error, method: req.method, url: req.url }, 'request handler threw');
      if (res.headersSent || res.writableEnded) {
        res.destroy();
        return;
      }
      const internal = toAppError(undefined);
      res.writeHead(internal.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(internal.toJSON()));
    }
  };
}

/**
 * Wraps every 'request' listener `server` has now in `guardRequests`: call it after Socket.IO
 * attached, so that Engine.IO's own listener (which hands other paths to the app) is guarded too.
 */
export function guardServerRequests(server: Server, logger: Logger): void {
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  for (const listener of listeners) server.on('request', guardRequests(listener, logger));
}
