import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';

/**
 * One address in front of an API and a gateway process, routed by path as `infra/nginx/nginx.conf`
 * routes them: `/socket.io/` (polling and the WebSocket upgrade) to the gateway, everything else to
 * the API, each request with the client appended to X-Forwarded-For. It stands in for nginx, which
 * the machines the tests run on do not have; the WebSocket upgrade is piped as raw TCP, so the
 * Socket.IO frames pass untouched. Test-only: no timeouts, no body limits, no retries.
 */
export interface FrontProxy {
  url: string;
  close(): Promise<void>;
}

export async function startFrontProxy(apiUrl: string, gatewayUrl: string): Promise<FrontProxy> {
  const upstream = (req: IncomingMessage) =>
    new URL(req.url?.startsWith('/socket.io/') ? gatewayUrl : apiUrl);
  const forwardedFor = (req: IncomingMessage) =>
    [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');

  const upgraded = new Set<{ destroy(): void }>();
  const server: Server = createServer((req, res) => {
    const target = upstream(req);
    const forward = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-for': forwardedFor(req) },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });

  server.on('upgrade', (req: IncomingMessage, client, head: Buffer) => {
    const target = upstream(req);
    const backend = connect(Number(target.port), target.hostname, () => {
      const headers = { ...req.headers, 'x-forwarded-for': forwardedFor(req) };
      const lines = Object.entries(headers).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((one) => `${name}: ${one}`),
      );
      backend.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      backend.write(head);
      backend.pipe(client);
      client.pipe(backend);
    });
    upgraded.add(client).add(backend);
    const end = () => {
      backend.destroy();
      client.destroy();
      upgraded.delete(client);
      upgraded.delete(backend);
    };
    backend.on('error', end);
    client.on('error', end);
    backend.on('close', end);
    client.on('close', end);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of upgraded) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
