import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, guardRequests, guardServerRequests } from '../src';

describe('guardRequests', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const logger = createLogger({ level: 'silent', name: 'guard' });
    server = createServer(
      guardRequests((req, res) => {
        if (req.url === '/after-answer') {
          res.writeHead(200).end('done');
          res.writeHead(200); // a second answer to one request: ERR_HTTP_HEADERS_SENT
        }
        if (req.url === '/throws') throw new Error('a bug');
        res.writeHead(200).end('ok');
      }, logger),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('when a handler throws before answering, then the request gets a 500 INTERNAL and the server goes on', async () => {
    const answer = await fetch(`${url}/throws`);
    expect(answer.status).toBe(500);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('INTERNAL');
    expect(await (await fetch(`${url}/`)).text()).toBe('ok');
  });

  it('when a handler throws after answering (headers already sent), then the process does not exit and the server goes on', async () => {
    expect(await (await fetch(`${url}/after-answer`)).text()).toBe('done');
    expect(await (await fetch(`${url}/`)).text()).toBe('ok');
  });
});

describe('guardServerRequests', () => {
  it('when a listener attached before the guard throws (Socket.IO-style wrapping included), then the request is answered and the server goes on', async () => {
    const logger = createLogger({ level: 'silent', name: 'guard' });
    const server = createServer((req, res) => {
      if (req.url === '/throws') throw new Error('a bug');
      res.end('ok');
    });
    // What Engine.IO does on attach: take the listeners and call them from its own.
    const app = server.listeners('request') as ((...args: unknown[]) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req, res) => app.forEach((listener) => listener(req, res)));
    guardServerRequests(server, logger);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${url}/throws`)).status).toBe(500);
      expect(await (await fetch(`${url}/`)).text()).toBe('ok');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
