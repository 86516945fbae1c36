import { createServer } from 'node:net';

export interface HttpAnswer<T = any> {
  status: number;
  body: T;
  text: string;
}

/** GETs a URL and parses JSON bodies; any status resolves. */
export async function get<T = any>(url: string): Promise<HttpAnswer<T>> {
  const response = await fetch(url);
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('json');
  return { status: response.status, body: (isJson ? JSON.parse(text) : text) as T, text };
}

/**
 * Resolves once `/health/ready` of the app answers 200, as a load balancer waits before it sends a
 * pod traffic: "listening" comes before the pod's Redis and database connections are up.
 */
export async function untilReady(appUrl: string, timeoutMs = 20_000): Promise<void> {
  await eventually(
    () => get(`${appUrl}/health/ready`),
    (answer) => answer.status === 200,
    timeoutMs,
  );
}

/**
 * Calls `baseUrl + path` with a bearer token (none: anonymous) and a JSON body if given; parses a
 * JSON answer. Any status resolves.
 */
export async function callJson<T = any>(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const isJson = response.headers.get('content-type')?.includes('json');
  return {
    status: response.status,
    body: (await (isJson ? response.json() : response.text())) as T,
  };
}

/** Polls `read` until `done` holds for what it returns; rejects with the last value after `timeoutMs`. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`condition not reached in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A local port nothing listens on: bound once by us, then released. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The samples of one series in a Prometheus exposition, as `{labels, value}`; `name` is exact
 * (pass `x_bucket` for a histogram's buckets).
 */
export function samples(
  exposition: string,
  name: string,
): { labels: Record<string, string>; value: number }[] {
  const found: { labels: Record<string, string>; value: number }[] = [];
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The sum of a series' samples whose labels include `where`. */
export function total(
  exposition: string,
  name: string,
  where: Record<string, string> = {},
): number {
  return samples(exposition, name)
    .filter((sample) => Object.entries(where).every(([k, v]) => sample.labels[k] === v))
    .reduce((sum, sample) => sum + sample.value, 0);
}
