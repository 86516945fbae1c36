import { io } from 'socket.io-client';
import type { IncomingMessage } from 'node:http';
import { originAllowed } from '@mm/gateway';
import { ConfigError, loadAppConfig } from '@mm/platform';
import { createUser, freshUserId, type TestUser } from '@mm/test-support/chat';
import { startTestService, type TestService } from '@mm/test-support/embedded';

/**
 * Cross-origin access is configured (`CORS_ORIGINS`), not guessed: over real HTTP on the embedded
 * service, which serves the REST API and the gateway from one allow-list.
 */
const ALLOWED = 'https://app.example.test';
const OTHER = 'https://evil.example.test';

describe('cross-origin clients', () => {
  let api: TestService;
  let byDefault: TestService;
  let ann: TestUser;

  beforeAll(async () => {
    api = await startTestService('cors_listed', {
      CORS_ORIGINS: `${ALLOWED}, http://localhost:5173`,
    });
    byDefault = await startTestService('cors_default');
    ann = await createUser(api.url, freshUserId());
  });
  afterAll(async () => {
    await api?.stop();
    await byDefault?.stop();
  });

  const preflight = (service: TestService, origin: string) =>
    fetch(`${service.url}/api/users/me`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
  const simple = (service: TestService, origin: string) =>
    fetch(`${service.url}/api/users/me`, {
      headers: { origin, authorization: `Bearer ${ann.token}` },
    });

  /** A Socket.IO handshake over polling with this Origin: resolves whether it was accepted. */
  const handshake = (service: TestService, origin: string) =>
    new Promise<boolean>((resolve) => {
      const socket = io(service.url, {
        transports: ['polling'],
        extraHeaders: { origin },
        auth: { token: ann.token },
        reconnection: false,
      });
      socket.once('connect', () => {
        socket.close();
        resolve(true);
      });
      socket.once('connect_error', () => {
        socket.close();
        resolve(false);
      });
    });

  it('when a listed origin sends a preflight and a simple request, then both carry Access-Control-Allow-Origin', async () => {
    const before = await preflight(api, ALLOWED);
    expect(before.status).toBe(204);
    expect(before.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(before.headers.get('access-control-allow-methods')).toContain('PUT');
    const after = await simple(api, ALLOWED);
    expect(after.status).toBe(200);
    expect(after.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('when an origin not listed sends a preflight and a simple request, then neither carries Access-Control-Allow-Origin', async () => {
    const before = await preflight(api, OTHER);
    expect(before.headers.get('access-control-allow-origin')).toBeNull();
    const after = await simple(api, OTHER);
    expect(after.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when CORS_ORIGINS is unset, then no other origin gets Access-Control-Allow-Origin', async () => {
    const before = await preflight(byDefault, ALLOWED);
    expect(before.headers.get('access-control-allow-origin')).toBeNull();
    const after = await simple(byDefault, ALLOWED);
    expect(after.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('when a socket handshakes from a listed origin or its own, then it is accepted; from another origin, refused', async () => {
    expect(await handshake(api, ALLOWED)).toBe(true);
    expect(await handshake(api, api.url)).toBe(true);
    expect(await handshake(api, OTHER)).toBe(false);
    expect(await handshake(byDefault, ALLOWED)).toBe(false);
    expect(await handshake(byDefault, byDefault.url)).toBe(true);
  });

  it('when CORS_ORIGINS names something that is not an origin, then the configuration is refused', () => {
    for (const bad of ['app.example.test', 'https://app.example.test/', 'ftp://app.example.test']) {
      expect(() => loadAppConfig('embedded', { CORS_ORIGINS: bad })).toThrow(ConfigError);
    }
    expect(loadAppConfig('embedded', { CORS_ORIGINS: ` ${ALLOWED} ,` }).http.corsOrigins).toEqual([
      ALLOWED,
    ]);
    expect(loadAppConfig('embedded', {}).http.corsOrigins).toEqual([]);
  });

  it('when a handshake names its own host (port dropped by a proxy or not), then it is its own origin; another port or host is not', () => {
    const request = (host: string, origin?: string) =>
      ({ headers: { host, ...(origin && { origin }) } }) as IncomingMessage;
    expect(
      originAllowed(request('chat.example.test:8080', 'http://chat.example.test:8080'), []),
    ).toBe(true);
    expect(originAllowed(request('chat.example.test', 'https://chat.example.test'), [])).toBe(true);
    expect(originAllowed(request('chat.example.test', 'http://chat.example.test:8080'), [])).toBe(
      true,
    );
    expect(
      originAllowed(request('chat.example.test:8080', 'http://chat.example.test:5173'), []),
    ).toBe(false);
    expect(originAllowed(request('chat.example.test', 'https://evil.example.test'), [])).toBe(
      false,
    );
    expect(originAllowed(request('chat.example.test', 'null'), [])).toBe(false);
    expect(originAllowed(request('chat.example.test'), [])).toBe(true);
  });
});
