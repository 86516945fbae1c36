import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAppConfig } from '@mm/platform';
import { kustomize, type Manifest } from '@mm/test-support/kustomize';

/**
 * The proxies' body limits against what the api accepts: a body the api would take but the proxy
 * refuses gets the proxy's page instead of the api's error. Only the photo upload carries more
 * than a JSON body; every other path keeps the small limit.
 */
const ROOT = path.resolve(__dirname, '../..');
const PHOTO_PATH = '/api/users/me/photo';
const SMALL_LIMIT = 128 * 1024;
const BODY_SIZE = 'nginx.ingress.kubernetes.io/proxy-body-size';

/** An nginx size (`128k`, `6m`, `1g`, or bytes), in bytes. */
function sizeInBytes(size: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(size.trim());
  if (!match) throw new Error(`not an nginx size: ${size}`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase()]!;
  return Number(match[1]) * unit;
}

/** The api's photo limit with the given settings (PHOTO_MAX_BYTES or its default). */
function photoMaxBytes(settings: Record<string, string> = {}): number {
  return loadAppConfig('scaled', {
    DATABASE_URL: 'postgres://mm@postgres:5432/mm',
    REDIS_URL: 'redis://redis:6379',
    JWT_SECRET: 'a-secret-made-outside-git-that-is-long-enough',
    ...settings,
  }).rules.photoMaxBytes;
}

it('when sizes are read, then k, m and plain bytes are understood', () => {
  expect([sizeInBytes('128k'), sizeInBytes('6m'), sizeInBytes('512')]).toEqual([
    131_072, 6_291_456, 512,
  ]);
});

describe('nginx (infra/nginx/nginx.conf)', () => {
  const nginx = readFileSync(path.join(ROOT, 'infra/nginx/nginx.conf'), 'utf8');
  const limitIn = (block: string) =>
    sizeInBytes(/client_max_body_size (\S+);/.exec(block)?.[1] ?? 'missing');

  it('when a photo of PHOTO_MAX_BYTES is uploaded, then its location lets it through to the api', () => {
    const block = /location = \/api\/users\/me\/photo \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
    expect(block).toContain('proxy_pass http://api;');
    // Headroom for a little more than the limit, so the api answers an oversized photo itself.
    expect(limitIn(block)).toBeGreaterThan(photoMaxBytes());
  });

  it('when any other body is sent, then the server keeps the small limit', () => {
    const server = nginx.replace(/location [^{]*\{[^}]*\}/g, '');
    expect(limitIn(server)).toBe(SMALL_LIMIT);
    const otherLocations = [...nginx.matchAll(/location ([^{]*)\{([^}]*)\}/g)].filter(
      ([, where]) => !where!.includes(PHOTO_PATH),
    );
    for (const [, , block] of otherLocations) {
      expect(block).not.toContain('client_max_body_size');
    }
  });
});

describe.each(['dev', 'prod'])('the Ingress of the %s overlay', (overlay) => {
  const manifests = kustomize(path.join(ROOT, 'k8s/overlays', overlay));
  const config = manifests.find((m) => m.kind === 'ConfigMap')!;
  const routes = manifests
    .filter((m) => m.kind === 'Ingress')
    .flatMap((ingress: Manifest) =>
      ingress.spec.rules.flatMap((rule: any) =>
        rule.http.paths.map((p: any) => ({
          path: p.path as string,
          pathType: p.pathType as string,
          service: p.backend.service.name as string,
          limit: ingress.metadata.annotations?.[BODY_SIZE] as string | undefined,
        })),
      ),
    );

  it('when a photo of PHOTO_MAX_BYTES is uploaded, then its path takes it to the api', () => {
    const photo = routes.find((route) => route.path === PHOTO_PATH);
    expect(photo).toMatchObject({ pathType: 'Exact', service: 'mystery-match-api' });
    expect(sizeInBytes(photo!.limit ?? 'missing')).toBeGreaterThan(photoMaxBytes(config.data));
  });

  it('when any other body is sent, then its path keeps the small limit', () => {
    for (const route of routes.filter((r) => r.path !== PHOTO_PATH && r.path !== '/metrics')) {
      expect({ path: route.path, limit: sizeInBytes(route.limit ?? 'missing') }).toEqual({
        path: route.path,
        limit: SMALL_LIMIT,
      });
    }
  });
});
