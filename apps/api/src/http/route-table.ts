import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z, type ZodObject, type ZodType } from 'zod';
import { ERROR_STATUS, errorResponse, type ErrorCode } from '@mm/contract';
import type { Role, TokenService } from '@mm/core';
import { assertRole, assertSelf, authenticate, caller } from './authenticate';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

type Schema = ZodObject | undefined;
type Parsed<S extends Schema> = S extends ZodObject ? z.output<S> : Record<string, never>;

/** What a handler receives: inputs parsed by the route's schemas, and the caller from the token. */
export interface RouteContext<
  P extends Schema,
  Q extends Schema,
  B extends Schema,
  A extends boolean,
> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
  /** The token's subject; only routes with `auth: true` have one. */
  userId: A extends true ? number : undefined;
  /** The token's role (docs/design.md §4.2.2); only routes with `auth: true` have one. */
  role: A extends true ? Role : undefined;
  /** Answers with another of the route's documented statuses (`alsoStatus`) instead. */
  setStatus(status: number): void;
  /** Routes with `upload`: the raw request body and its declared content type. */
  upload: { contentType: string | undefined; bytes: Buffer };
  req: Request;
  res: Response;
}

/**
 * One REST endpoint: the one description that both mounts it on Express and documents it in the
 * OpenAPI document, so the two can never disagree.
 */
export interface RouteSpec<
  P extends Schema = Schema,
  Q extends Schema = Schema,
  B extends Schema = Schema,
  R extends ZodType = ZodType,
  A extends boolean = boolean,
> {
  method: HttpMethod;
  /** OpenAPI form: `/api/mystery/chat/{match_id}`. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  /** True: a bearer token is required and its subject is the handler's `userId`. */
  auth: A;
  /**
   * The least role the caller's token must carry (403 FORBIDDEN below it); unset: any. A route
   * with a role acts on others: a `user_id` it takes names whom it acts on, not the caller, so it
   * is not checked against the caller and gets no `/me` form.
   */
  role?: Exclude<Role, 'user'>;
  /**
   * Runs before the inputs are parsed and may refuse the request by throwing: a webhook's
   * signature check over `rawBody(req)`, the bytes the JSON body was read from.
   */
  guard?: (req: Request) => Promise<void> | void;
  params?: P;
  query?: Q;
  body?: B;
  /** The success status; 200 unless said. */
  status?: number;
  /** Other success statuses the handler may pick with `setStatus` (same response schema). */
  alsoStatus?: number[];
  response: R;
  /**
   * The body is a file, not JSON: read raw up to `maxBytes` whatever its declared type (the
   * handler checks the type, so a wrong one is a clear 415 rather than an empty body).
   */
  upload?: { contentTypes: readonly string[]; maxBytes: number };
  /**
   * The answer is a file: the handler returns a `BinaryFile` (response: `binaryFile`), sent with its
   * content type and this Cache-Control instead of JSON.
   */
  binary?: { contentTypes: readonly string[]; cacheControl: string };
  /**
   * True: a deleted account may still call it (account deletion itself, so a second call is a
   * no-op). Every other authenticated route, reading or writing, refuses a deleted account.
   */
  deletedAccountMayCall?: boolean;
  /**
   * True: the handler itself refuses an account that may not act, with the same errors and
   * before anything else, in a read it needs anyway (find-match reads the caller's profile), so
   * the refusal costs no query of its own. The route still refuses such an account.
   */
  standingCheckedByHandler?: boolean;
  /** Error codes this route answers with beyond the ones every route of its kind may give. */
  errors?: ErrorCode[];
  handler(context: RouteContext<P, Q, B, A>): Promise<z.input<R>> | z.input<R>;
}

/** What a `binary` route's handler answers. */
export const binaryFile = z.object({ content_type: z.string(), bytes: z.instanceof(Buffer) });

/** A spec with its types erased, as tables hold them. */
export type AnyRouteSpec = RouteSpec<Schema, Schema, Schema, ZodType, boolean>;

/** Declares a route with its handler's inputs typed from its schemas. */
export function route<
  P extends Schema = undefined,
  Q extends Schema = undefined,
  B extends Schema = undefined,
  R extends ZodType = ZodType,
  A extends boolean = boolean,
>(spec: RouteSpec<P, Q, B, R, A>): AnyRouteSpec {
  return spec as unknown as AnyRouteSpec;
}

/**
 * The caller acting for themself: a seed path naming `{user_id}` (which must be the caller's) also
 * gets a `/me` form, `me` in its place, that reads the id from the token instead. It comes first,
 * so Express serves the literal `me` before trying it as a `{user_id}`.
 */
export function withMeForms(specs: AnyRouteSpec[]): AnyRouteSpec[] {
  return specs.flatMap((spec) => {
    if (!spec.auth || spec.role || !spec.params || !('user_id' in spec.params.shape)) {
      return [spec];
    }
    const params = spec.params.omit({ user_id: true });
    const me: AnyRouteSpec = {
      ...spec,
      path: spec.path.replace('{user_id}', 'me'),
      description: [spec.description, `\`${spec.path}\` for the caller, named by the token.`]
        .filter(Boolean)
        .join(' '),
      params: Object.keys(params.shape).length ? params : undefined,
      handler: (context) =>
        spec.handler({ ...context, params: { ...context.params, user_id: context.userId } }),
    };
    return [me, spec];
  });
}

/** The bytes a JSON body was read from (kept by the app's JSON reader), for signature checks. */
export function rawBody(req: Request): Buffer {
  const raw = (req as Request & { rawBody?: Buffer }).rawBody;
  return raw ?? Buffer.alloc(0);
}

/** `/a/{b}/c` → `/a/:b/c`. */
export const expressPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

export interface MountOptions {
  tokens: TokenService;
  /** Runs after authentication, before parsing: rate limits. */
  before?: RequestHandler[];
  /**
   * Throws ACCOUNT_DELETED, ACCOUNT_SUSPENDED or ACCOUNT_BANNED for an account that may not act;
   * asked before every route that refuses a deleted one.
   */
  requireActiveAccount?: (userId: number) => Promise<void>;
}

/**
 * Authenticated routes refuse a deleted account, GETs included: its token stays valid until it
 * expires, but it may no longer act, nor read what it saw as a user (its ended matches, partners'
 * messages and views, discovery).
 */
export const refusesDeletedAccount = (spec: AnyRouteSpec): boolean =>
  spec.auth && !spec.deletedAccountMayCall;

/**
 * The routes on an Express router. Each request is parsed with the route's schemas (a bad field is
 * 400 VALIDATION_FAILED naming it), a `user_id` in the path, query or body must be the caller's
 * own (403; one left out of a body is the caller, and `withMeForms` gives a path one a `/me` form), a deleted account may not call it (410), and the handler's result is parsed
 * with the response schema, so a field the schema does not name never reaches the client.
 */
export function mountRoutes(specs: AnyRouteSpec[], options: MountOptions): Router {
  const router = Router();
  const authenticated = authenticate(options.tokens);
  for (const spec of specs) {
    const chain: RequestHandler[] = [];
    if (spec.auth) chain.push(authenticated);
    chain.push(...(options.before ?? []));
    if (spec.upload) {
      chain.push(express.raw({ type: () => true, limit: spec.upload.maxBytes }));
    }
    chain.push(async (req, res) => {
      await spec.guard?.(req);
      const params = spec.params ? spec.params.parse(req.params) : {};
      const query = spec.query ? spec.query.parse(req.query) : {};
      const body = spec.body ? spec.body.parse(req.body ?? {}) : {};
      const upload = {
        contentType: req.headers['content-type'],
        // A JSON body was already parsed by the app's JSON reader: not a file either way.
        bytes: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      };
      if (spec.auth && spec.role) assertRole(res, spec.role);
      if (spec.auth && !spec.role) {
        for (const input of [params, query, body] as Record<string, unknown>[]) {
          if (typeof input.user_id === 'number') assertSelf(res, input.user_id);
        }
      }
      const userId = spec.auth ? (res.locals.userId as number) : undefined;
      const role = spec.auth ? caller(res).role : undefined;
      if (userId !== undefined && refusesDeletedAccount(spec) && !spec.standingCheckedByHandler) {
        await options.requireActiveAccount?.(userId);
      }
      let status = spec.status ?? 200;
      const setStatus = (other: number) => {
        status = other;
      };
      const context = { params, query, body, userId, role, setStatus, upload, req, res };
      const result = await spec.handler(context as never);
      if (spec.binary) {
        const file = binaryFile.parse(result);
        res.status(status).type(file.content_type).set('cache-control', spec.binary.cacheControl);
        res.send(file.bytes);
        return;
      }
      res.status(status).json(spec.response.parse(result));
    });
    router[spec.method](expressPath(spec.path), ...chain);
  }
  return router;
}

/** The error codes a route may answer with: its own, and those its kind implies. */
export function routeErrors(spec: AnyRouteSpec): ErrorCode[] {
  const codes = new Set<ErrorCode>(spec.errors ?? []);
  if (spec.params || spec.query || spec.body) codes.add('VALIDATION_FAILED');
  if (spec.body || spec.upload) {
    codes.add('PAYLOAD_TOO_LARGE');
    codes.add('UNSUPPORTED_MEDIA_TYPE'); // a charset or Content-Encoding it cannot read
  }
  if (spec.auth) codes.add('UNAUTHENTICATED');
  const named = [spec.params, spec.query, spec.body].some((s) => s && 'user_id' in s.shape);
  if (spec.auth && (named || spec.role)) codes.add('FORBIDDEN');
  if (refusesDeletedAccount(spec)) {
    codes.add('ACCOUNT_DELETED');
    codes.add('ACCOUNT_SUSPENDED');
    codes.add('ACCOUNT_BANNED');
  }
  codes.add('RATE_LIMITED');
  // PostgreSQL or Redis out of reach: any route answers 503 with Retry-After then.
  codes.add('UNAVAILABLE');
  codes.add('INTERNAL');
  return [...codes];
}

export interface DocumentInfo {
  title: string;
  version: string;
  description?: string;
}

/** A file body in the OpenAPI document: raw bytes of each of these types. */
const fileContent = (types: readonly string[]) =>
  Object.fromEntries(
    types.map((type) => [type, { schema: { type: 'string' as const, format: 'binary' } }]),
  );

/** The OpenAPI 3 document of these routes, generated from the schemas that validate them. */
export function openApiDocument(specs: AnyRouteSpec[], info: DocumentInfo) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  for (const spec of specs) {
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of routeErrors(spec)) {
      const status = ERROR_STATUS[code];
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    const errors = Object.fromEntries(
      [...byStatus].map(([status, codes]) => [
        String(status),
        {
          description: `Error: ${codes.join(', ')}.`,
          content: { 'application/json': { schema: errorResponse } },
        },
      ]),
    );
    registry.registerPath({
      method: spec.method,
      path: spec.path,
      summary: spec.summary,
      ...(spec.description && { description: spec.description }),
      tags: spec.tags,
      ...(spec.auth && { security: [{ [bearer.name]: [] }] }),
      request: {
        ...(spec.params && { params: spec.params }),
        ...(spec.query && { query: spec.query }),
        ...(spec.body && {
          body: {
            // A body whose every field is optional may be left out.
            required: !spec.body.safeParse({}).success,
            content: { 'application/json': { schema: spec.body } },
          },
        }),
        ...(spec.upload && {
          body: { required: true, content: fileContent(spec.upload.contentTypes) },
        }),
      },
      responses: {
        ...Object.fromEntries(
          [spec.status ?? 200, ...(spec.alsoStatus ?? [])].map((status) => [
            String(status),
            {
              description: 'Success.',
              content: spec.binary
                ? fileContent(spec.binary.contentTypes)
                : { 'application/json': { schema: spec.response } },
            },
          ]),
        ),
        ...errors,
      },
    });
  }
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: { ...info },
  });
}
