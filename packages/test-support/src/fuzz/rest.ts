import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import jwt from 'jsonwebtoken';
import { restRoutes, sample, type Identities, type Part, type RestRoute } from './contract';
import { hostileString, huge, wrongJson } from './hostile';
import { mutateFields } from './mutate';
import { Random } from './random';

/**
 * The REST half of the fuzzer: case N of a run is built from the run's seed and N alone (a route of
 * the route table, a caller, inputs its schemas accept, then mutations of the fields, the encoding,
 * the headers and the token), sent over a raw HTTP connection, and judged.
 */

export interface Actor {
  id: number;
  token: string;
}

export interface RestTarget {
  /** Where the REST API answers. */
  apiUrl: string;
  /** Who the fuzzer calls as (never a bystander). */
  actors: Actor[];
  /** Who calls the routes that end an account (`ENDS_ACCOUNT`). */
  disposable: Actor[];
  /** Matches between the actors. */
  matchIds: number[];
  /** Each actor's own match. */
  matchOf: Record<number, number>;
  /** Ids of users and matches that are not the caller's: bystanders, strangers, nobody. */
  foreignIds: number[];
  /** The secret the target verifies with, to make tokens that are expired or oddly shaped. */
  jwtSecret: string;
  /** A small valid image for the upload route. */
  image: Buffer;
  /** Most cases come from the first actor: spends one user's budget (the default-limits run). */
  hotActor?: boolean;
}

export interface RestCase {
  n: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** What was done to the request, for the failure message. */
  notes: string[];
  /** The server may cut the connection instead of answering (a body past the limit). */
  mayDrop: boolean;
  /** Refused by Node's HTTP parser before the app sees it: no error body to expect. */
  lowLevel: boolean;
  /**
   * An Engine.IO long-polling session as a stock client opens it: this request is the handshake,
   * then the same path is polled again with the `sid` it answered.
   */
  pollsSession?: boolean;
  /** The route needs a token and this one proves nobody (the variant's name): never a 2xx. */
  badToken?: string;
}

export interface CaseResult {
  status?: number;
  contentType?: string;
  text?: string;
  error?: string;
}

const ROUTES = restRoutes();

/** Routes after which the caller can do nothing more: called by disposable users only. */
const ENDS_ACCOUNT = new Set(['delete /api/users/delete-account']);

/** Paths the route table does not hold but a client may still call. */
const OTHER_PATHS = [
  '/',
  '/health',
  '/health/live',
  '/health/ready',
  '/api/openapi.json',
  '/api/nope',
  '/api/mystery/',
  '/api/users/me/photo/../../me',
  '/metrics',
  '/socket.io/?EIO=4&transport=polling',
  '/socket.io/?EIO=3&transport=polling',
  '/socket.io/?EIO=4&transport=websocket',
  '/socket.io/?EIO=4&transport=polling&sid=nope',
  '/socket.io/?EIO=4&transport=bogus',
];

export function buildRestCase(n: number, seed: number, target: RestTarget): RestCase {
  const random = new Random(seed, n);
  const notes: string[] = [];
  if (random.chance(0.04)) return otherPathCase(n, random);
  if (random.chance(0.01)) {
    return {
      n,
      method: 'GET',
      path: '/socket.io/?EIO=4&transport=polling',
      headers: {},
      notes: ['polling-session'],
      mayDrop: false,
      lowLevel: true,
      pollsSession: true,
    };
  }

  const route = random.pick(ROUTES);
  const actor = ENDS_ACCOUNT.has(route.key)
    ? random.pick(target.disposable)
    : target.hotActor && random.chance(0.8)
      ? target.actors[0]!
      : random.pick(target.actors);
  const ids: Identities = {
    self: actor.id,
    matchId: ownMatchMostly(random, target, actor.id),
    otherUser: random.pick([...target.actors.map((a) => a.id), ...target.foreignIds]),
    seq: random.int(5),
    nonce: `${seed}-${n}`,
  };
  const inputs: Partial<Record<Part, Record<string, unknown>>> = {};
  for (const [part, schema] of Object.entries(route.inputs) as [Part, typeof route.inputs.body][]) {
    inputs[part] = sample(schema!, ids, random) as Record<string, unknown>;
  }
  // One case in six is sent as a real client would; the rest are mutated.
  const mutate = !random.chance(1 / 6);
  if (mutate) {
    const parts = (Object.keys(inputs) as Part[]).filter(
      (p) => p !== 'params' || random.chance(0.5),
    );
    for (const part of parts) {
      if (!random.chance(0.7)) continue;
      // A part that samples to no object (an optional body left out) has no fields to mutate.
      const value = inputs[part];
      if (value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const fields = route.inputs[part]?.properties ?? {};
      const done = mutateFields(inputs[part]!, fields, random, { foreignIds: target.foreignIds });
      notes.push(...done.map((d) => `${part}.${d}`));
    }
  }

  let method = route.method;
  let path = renderPath(route, inputs.params ?? {}, random, mutate, notes);
  path += renderQuery(inputs.query, random, mutate, notes);
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  let mayDrop = false;
  let lowLevel = false;

  if (route.upload) {
    ({ body, mayDrop } = uploadBody(random, target.image, headers, notes));
  } else if (inputs.body !== undefined || (mutate && random.chance(0.1))) {
    ({ body, mayDrop } = jsonBody(inputs.body ?? {}, random, mutate, headers, notes));
  }

  let badToken: string | undefined;
  let auth: string | undefined = `Bearer ${actor.token}`;
  if (!random.chance(0.8)) {
    const variant = authVariant(random, actor, target, notes);
    auth = variant.header;
    if (route.auth && variant.kind !== 'lowercase') badToken = variant.kind;
  }
  if (auth !== undefined) headers.authorization = auth;
  if (mutate && random.chance(0.3)) lowLevel = headerVariant(random, headers, notes) || lowLevel;
  if (mutate && random.chance(0.05)) {
    method = random.pick(['PATCH', 'OPTIONS', 'HEAD', 'GET', 'POST', 'PUT', 'DELETE']);
    notes.push(`method:${method}`);
    // Another method is another route (or Express's automatic OPTIONS): no identity to judge.
    if (method !== route.method) badToken = undefined;
  }
  // Past Node's header limit (16 kB) the parser answers 431 itself, maybe before the request
  // is written out.
  if (path.length > 8000) lowLevel = true;
  if (path.length > 16_000) mayDrop = true;
  return { n, method, path, headers, body, notes, mayDrop, lowLevel, badToken };
}

/** The caller's own match two times in three, another match otherwise. */
export function ownMatchMostly(
  random: Random,
  target: Pick<RestTarget, 'matchIds' | 'matchOf'>,
  actorId: number,
): number {
  const own = target.matchOf[actorId];
  return own !== undefined && random.chance(2 / 3) ? own : random.pick(target.matchIds);
}

function otherPathCase(n: number, random: Random): RestCase {
  const path = random.pick(OTHER_PATHS);
  const method = random.pick(['GET', 'GET', 'POST', 'OPTIONS']);
  const body =
    method === 'POST' ? Buffer.from(random.pick(['1:6', '40', 'garbage', ''])) : undefined;
  return {
    n,
    method,
    path,
    headers: body ? { 'content-type': 'text/plain;charset=UTF-8' } : {},
    body,
    notes: ['other-path'],
    mayDrop: false,
    lowLevel: path.startsWith('/socket.io/'),
  };
}

/** Path parameters, percent-encoded; mutated cases may put raw and malformed encodings there. */
function renderPath(
  route: RestRoute,
  params: Record<string, unknown>,
  random: Random,
  mutate: boolean,
  notes: string[],
): string {
  let path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (mutate && random.chance(0.15)) {
      const raw = random.pick([
        '%',
        '%zz',
        '%E0%A4%A',
        '%ED%A0%80',
        '%C0%AF',
        '%00',
        '%2e%2e%2f',
        '..',
        '-1',
        '0',
        '1.5',
        '1e3',
        '0x10',
        '9007199254740993',
        '%20%201',
        huge('9', 5000),
      ]);
      notes.push(`path.raw:${name}=${raw.slice(0, 40)}`);
      return raw;
    }
    return encodeLoose(String(params[name] ?? ''));
  });
  if (mutate && random.chance(0.03)) {
    path = random.pick([`${path}/`, `/${path}`, path.toUpperCase(), `${path}%2F`, `${path};x=1`]);
    notes.push(`path:${path}`);
  }
  return path;
}

function renderQuery(
  query: Record<string, unknown> | undefined,
  random: Random,
  mutate: boolean,
  notes: string[],
): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    const text = Array.isArray(value) ? value.map(String).join(',') : stringify(value);
    pairs.push(`${encodeLoose(key)}=${encodeLoose(text)}`);
  }
  if (mutate && random.chance(0.15)) {
    const extra = random.pick([
      'limit=1&limit=2',
      'limit[]=1',
      'limit[a]=1',
      'before=%',
      'cursor=%ZZ',
      '__proto__[x]=1',
      'profile_ids=' + 'a,'.repeat(2000),
      'interests=,,,',
      '=&&=&',
      `x=${huge('y', 20_000)}`,
    ]);
    pairs.push(extra);
    notes.push(`query:${extra.slice(0, 40)}`);
  }
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}

/**
 * encodeURIComponent, except that a lone surrogate is sent as the bytes it would have in WTF-8
 * (`%ED%A0%80`): malformed UTF-8 the server must refuse cleanly.
 */
function encodeLoose(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      const bytes = [0xed, 0xa0 | ((code >> 6) & 0x1f), 0x80 | (code & 0x3f)];
      out += bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

const stringify = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);

function jsonBody(
  value: unknown,
  random: Random,
  mutate: boolean,
  headers: Record<string, string>,
  notes: string[],
): { body: Buffer; mayDrop: boolean } {
  headers['content-type'] = 'application/json';
  let mayDrop = false;
  let text = JSON.stringify(value);
  if (mutate && random.chance(0.35)) {
    const kind = random.weighted<string>([
      [3, 'malformed'],
      [2, 'top-level'],
      [3, 'content-type'],
      [2, 'encoding'],
      [1, 'huge'],
      [1, 'empty'],
    ]);
    notes.push(`body:${kind}`);
    switch (kind) {
      case 'malformed':
        text = random.pick([
          '{',
          '{"a":',
          text.slice(0, Math.max(1, text.length - 1)),
          `${text}garbage`,
          `\ufeff${text}`,
          "{'user_id':1}",
          '{"a":NaN}',
          '{"a":1,}',
          '{"a":"\\u0000"}',
          '{"a":"\\ud800"}',
          '['.repeat(5000),
          `{"display_name":"a","display_name":${JSON.stringify(hostileString(random))}}`,
        ]);
        break;
      case 'top-level':
        text = JSON.stringify(wrongJson(random)) ?? 'null';
        break;
      case 'content-type':
        headers['content-type'] = random.pick([
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/json; charset=utf-16',
          'application/json; charset=koi8-r',
          'application/json; charset=nonsense',
          'application/json; charset="utf-8"',
          'application/vnd.api+json',
          'APPLICATION/JSON',
          'application/json; boundary=;;;',
          '*/*',
          '',
        ]);
        notes.push(`content-type:${headers['content-type']}`);
        break;
      case 'encoding': {
        const encoding = random.pick([
          'gzip',
          'gzip-broken',
          'deflate',
          'br',
          'identity',
          'compress',
          'gzip, gzip',
        ]);
        notes.push(`content-encoding:${encoding}`);
        if (encoding === 'gzip') {
          headers['content-encoding'] = 'gzip';
          return { body: gzipSync(text), mayDrop };
        }
        headers['content-encoding'] = encoding === 'gzip-broken' ? 'gzip' : encoding;
        if (encoding === 'gzip-broken') return { body: gzipSync(text).subarray(0, 12), mayDrop };
        break;
      }
      case 'huge':
        text = JSON.stringify({
          ...(value as object),
          body: huge('a', random.pick([101_000, 2_000_000])),
        });
        mayDrop = true;
        break;
      case 'empty':
        text = '';
        break;
    }
  }
  return { body: Buffer.from(text), mayDrop };
}

const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>');
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function uploadBody(
  random: Random,
  image: Buffer,
  headers: Record<string, string>,
  notes: string[],
): { body: Buffer; mayDrop: boolean } {
  const [kind, body] = random.pick<[string, Buffer]>([
    ['image', image],
    ['svg', SVG],
    ['gif', GIF],
    ['truncated', image.subarray(0, Math.floor(image.length / 2))],
    ['noise', Buffer.from(Array.from({ length: 2048 }, () => random.int(256)))],
    ['empty', Buffer.alloc(0)],
    ['json', Buffer.from('{"a":1}')],
    ['huge', Buffer.alloc(400_000, 7)],
  ]);
  headers['content-type'] = random.pick([
    'image/png',
    'image/jpeg',
    'image/webp',
    'image/gif',
    'image/svg+xml',
    'application/json',
    'image/png; charset=utf-8',
    'text/plain',
  ]);
  notes.push(`upload:${kind} as ${headers['content-type']}`);
  return { body, mayDrop: kind === 'huge' };
}

/** An Authorization header other than the caller's own valid token (or none). */
export function authVariant(
  random: Random,
  actor: Actor,
  target: Pick<RestTarget, 'jwtSecret' | 'foreignIds'>,
  notes: string[],
): { kind: string; header: string | undefined } {
  const now = Math.floor(Date.now() / 1000);
  const sign = (payload: object, secret = target.jwtSecret) =>
    jwt.sign(payload, secret, { algorithm: 'HS256' });
  const [kind, value] = random.pick<[string, string | undefined]>([
    ['absent', undefined],
    ['empty', 'Bearer '],
    ['scheme-only', 'Bearer'],
    ['lowercase', `bearer ${actor.token}`],
    ['basic', 'Basic dXNlcjpwYXNz'],
    ['garbage', 'Bearer not.a.token'],
    ['appended', `Bearer ${actor.token}x`],
    ['double', `Bearer ${actor.token} Bearer ${actor.token}`],
    ['expired', `Bearer ${sign({ sub: String(actor.id), exp: now - 60 })}`],
    [
      'forged',
      `Bearer ${sign({ sub: String(actor.id), exp: now + 600 }, 'someone-elses-secret-that-is-long-enough')}`,
    ],
    [
      'published',
      `Bearer ${sign({ sub: String(random.pick(target.foreignIds)), exp: now + 600 }, 'embedded-default-dev-secret-not-for-production')}`,
    ],
    ['alg-none', `Bearer ${jwtNone({ sub: String(actor.id), exp: now + 600 })}`],
    ['sub-true', `Bearer ${sign({ sub: true, exp: now + 600 })}`],
    ['sub-array', `Bearer ${sign({ sub: [actor.id], exp: now + 600 })}`],
    ['sub-padded', `Bearer ${sign({ sub: ` ${actor.id} `, exp: now + 600 })}`],
    ['sub-hex', `Bearer ${sign({ sub: `0x${actor.id.toString(16)}`, exp: now + 600 })}`],
    ['sub-zero', `Bearer ${sign({ sub: '0', exp: now + 600 })}`],
    ['sub-huge', `Bearer ${sign({ sub: '9007199254740993', exp: now + 600 })}`],
    ['no-sub', `Bearer ${sign({ exp: now + 600 })}`],
    ['no-exp', `Bearer ${sign({ sub: String(actor.id) })}`],
    [
      // Someone else's id, forged: a token for it from the real secret would be theirs to use.
      'forged-foreign',
      `Bearer ${sign({ sub: String(random.pick(target.foreignIds)), exp: now + 600 }, 'someone-elses-secret-that-is-long-enough')}`,
    ],
    ['huge', `Bearer ${huge('a', 12_000)}`],
  ]);
  notes.push(`auth:${kind}`);
  return { kind, header: value };
}

function jwtNone(payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** Spoofed or odd headers; true when Node itself may refuse the request. */
function headerVariant(random: Random, headers: Record<string, string>, notes: string[]): boolean {
  const [name, value] = random.pick<[string, string]>([
    ['x-forwarded-for', `203.0.113.${random.int(256)}`],
    ['x-forwarded-for', '1.1.1.1, 2.2.2.2, 3.3.3.3'],
    ['x-forwarded-for', 'unknown'],
    ['x-forwarded-for', '999.999.999.999'],
    ['x-forwarded-for', '::ffff:10.0.0.1'],
    ['x-forwarded-for', huge('1.2.3.4,', 4000)],
    ['x-real-ip', '10.0.0.1'],
    ['forwarded', 'for=1.2.3.4;proto=https'],
    ['host', 'evil.example'],
    ['host', ''],
    ['host', '[::1]:99999'],
    ['host', huge('h', 3000)],
    ['x-forwarded-host', 'evil.example'],
    ['x-forwarded-proto', 'gopher'],
    ['accept', 'text/html;q=NaN, */*;q=-1'],
    ['accept-encoding', 'gzip;q=2, br, zstd, x'],
    ['cookie', huge('a=b; ', 5000)],
    ['origin', 'null'],
    ['x-request-id', huge('r', 5000)],
    ['expect', '100-continue'],
    ['connection', 'upgrade'],
    ['upgrade', 'websocket'],
  ]);
  headers[name] = value;
  notes.push(`header:${name}=${value.slice(0, 30)}`);
  return name === 'host' || value.length > 2000 || name === 'expect' || name === 'upgrade';
}

/** Sends one case; any answer resolves, a cut connection or a hang resolves with `error`. */
export function sendCase(
  baseUrl: string,
  agent: Agent,
  item: RestCase,
  timeoutMs: number,
): Promise<CaseResult> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: CaseResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    let req: ReturnType<typeof request>;
    try {
      req = request({
        host: url.hostname,
        port: url.port,
        method: item.method,
        path: item.path,
        headers: {
          ...(item.body && { 'content-length': String(item.body.length) }),
          ...item.headers,
        },
        agent,
        timeout: timeoutMs,
        insecureHTTPParser: false,
      });
    } catch (error) {
      // The client library refused to build it (an invalid header or path): nothing was sent.
      done({ error: `not sent: ${(error as Error).message}` });
      return;
    }
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        done({
          status: res.statusCode,
          contentType: res.headers['content-type'],
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (error) => done({ status: res.statusCode, error: error.message }));
    });
    req.on('timeout', () => {
      req.destroy(new Error(`no answer in ${timeoutMs} ms`));
    });
    req.on('error', (error) => done({ error: error.message }));
    req.end(item.body);
  });
}

/**
 * The case. A polling session goes on as a stock client's does: it posts the CONNECT packet
 * (`40`, no token) with the handshake's `sid`, then polls, which answers at once with the
 * refusal (`44{...}`); the first step that fails answers for the case.
 */
export async function sendAny(
  baseUrl: string,
  agent: Agent,
  item: RestCase,
  timeoutMs: number,
): Promise<CaseResult> {
  const handshake = await sendCase(baseUrl, agent, item, timeoutMs);
  const sid = item.pollsSession ? /"sid":"([^"]+)"/.exec(handshake.text ?? '')?.[1] : undefined;
  if (!sid) return handshake;
  const path = `${item.path}&sid=${encodeURIComponent(sid)}`;
  const connect = await sendCase(
    baseUrl,
    agent,
    {
      ...item,
      method: 'POST',
      path,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: Buffer.from('40'),
    },
    timeoutMs,
  );
  if (connect.error !== undefined || (connect.status ?? 0) >= 500) return connect;
  return sendCase(baseUrl, agent, { ...item, path }, timeoutMs);
}

/** What is wrong with the answer to a case, if anything. */
export function judge(item: RestCase, result: CaseResult): string | undefined {
  if (result.error !== undefined && result.status === undefined) {
    if (result.error.startsWith('not sent:')) return undefined;
    return item.mayDrop ? undefined : `no answer (${result.error})`;
  }
  const status = result.status!;
  if (status >= 500) return `${status} ${result.text?.slice(0, 300)}`;
  if (item.badToken && status < 300) return `${status} for a bad token (${item.badToken})`;
  if (item.pollsSession && !result.text?.startsWith('44')) {
    return `a stock polling client is not served: ${status} ${result.text?.slice(0, 120)}`;
  }
  // 431 comes from Node's parser (headers past 16 kB), before the app: it has no body.
  const fromApp = !item.lowLevel && status !== 431 && item.method !== 'HEAD';
  if (status >= 400 && item.path.startsWith('/api') && fromApp) {
    if (!hasErrorBody(result))
      return `${status} without the error body: ${result.text?.slice(0, 200)}`;
  }
  return undefined;
}

function hasErrorBody(result: CaseResult): boolean {
  if (!result.contentType?.includes('json')) return false;
  try {
    const body = JSON.parse(result.text ?? '') as { error?: { code?: unknown; message?: unknown } };
    return typeof body.error?.code === 'string' && typeof body.error.message === 'string';
  } catch {
    return false;
  }
}

/** The case as a one-line repro. */
export function describeCase(item: RestCase): string {
  const headers = Object.entries(item.headers)
    .map(([k, v]) => `${k}: ${v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v}`)
    .join(' | ');
  const body = item.body
    ? item.body.length > 200
      ? `${JSON.stringify(item.body.subarray(0, 200).toString('utf8'))}…(${item.body.length} bytes)`
      : JSON.stringify(item.body.toString('utf8'))
    : '';
  const path =
    item.path.length > 300 ? `${item.path.slice(0, 300)}…(${item.path.length})` : item.path;
  return `#${item.n} ${item.method} ${path} [${headers}] ${body} {${item.notes.join(', ')}}`;
}
