import { z, type ZodType } from 'zod';
import { apiRoutes, type AnyRouteSpec } from '@mm/api';
import {
  readRequest,
  deliveredRequest,
  deleteMessageRequest,
  sendMessageRequest,
  syncRequest,
  typingRequest,
  type ClientToServerEvents,
} from '@mm/contract';
import type { Services } from '@mm/core';
import type { Random } from './random';

/**
 * What the fuzzer knows of the wire contract: every REST route of the route table with the JSON
 * Schemas of its inputs, and every socket event of the event map with its request schema.
 */

/** A JSON Schema as zod writes it (the subset the contract's schemas use). */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
}

const PARTS = ['params', 'query', 'body'] as const;
export type Part = (typeof PARTS)[number];

export interface RestRoute {
  key: string;
  method: string;
  /** OpenAPI form: `/api/mystery/chat/{match_id}`. */
  path: string;
  auth: boolean;
  upload: boolean;
  inputs: Partial<Record<Part, JsonSchema>>;
}

const toJson = (schema: ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/**
 * Every route of the route table (`apiRoutes`, dev tokens on). Only each spec's method, path and
 * schemas are read: the handlers never run here, so the services they close over are a stand-in
 * that answers anything.
 */
export function restRoutes(): RestRoute[] {
  const anything: unknown = new Proxy(function () {}, {
    get: (_target, property) => (property === 'then' ? undefined : anything),
    apply: () => anything,
  });
  return apiRoutes({ services: anything as Services, devTokens: true }).map(
    (spec: AnyRouteSpec) => ({
      key: `${spec.method} ${spec.path}`,
      method: spec.method.toUpperCase(),
      path: spec.path,
      auth: spec.auth,
      upload: spec.upload !== undefined,
      inputs: Object.fromEntries(
        PARTS.filter((part) => spec[part]).map((part) => [part, toJson(spec[part]!)]),
      ),
    }),
  );
}

export interface SocketEvent {
  name: string;
  schema: JsonSchema;
  /** The contract gives it an ack callback. */
  ack: boolean;
}

/**
 * Every event of `ClientToServerEvents`: keyed by the event map, so an event added there fails to
 * type-check here until the fuzzer knows its request schema.
 */
const SOCKET_EVENT_SCHEMAS: {
  [E in keyof ClientToServerEvents]: { schema: ZodType; ack: boolean };
} = {
  'message:send': { schema: sendMessageRequest, ack: true },
  sync: { schema: syncRequest, ack: true },
  typing: { schema: typingRequest, ack: false },
  read: { schema: readRequest, ack: true },
  delivered: { schema: deliveredRequest, ack: true },
  'message:delete': { schema: deleteMessageRequest, ack: true },
};

export function socketEvents(): SocketEvent[] {
  return Object.entries(SOCKET_EVENT_SCHEMAS).map(([name, { schema, ack }]) => ({
    name,
    schema: toJson(schema),
    ack,
  }));
}

/** The ids a generated request fills in: the caller's own, and the things it may name. */
export interface Identities {
  self: number;
  /** A match the caller is (or was) part of. */
  matchId: number;
  /** Another user: a partner, a stranger or a bystander. */
  otherUser: number;
  /** A seq in range for the match. */
  seq: number;
  /** Unique per case, for client ids. */
  nonce: string;
}

/** Values that a field of this name takes when a real client sends it. */
function byName(name: string, ids: Identities, random: Random): unknown {
  switch (name) {
    case 'user_id':
      return ids.self;
    case 'match_id':
      return ids.matchId;
    case 'blocked_user_id':
    case 'reported_user_id':
      return ids.otherUser;
    case 'client_id':
      return `fz-${ids.nonce}`;
    case 'body':
      return random.pick(['hi', 'how are you?', 'call me maybe', 'ok']);
    case 'display_name':
      return `Fuzz ${ids.self % 1000}`;
    case 'birth_date':
      return random.pick(['1990-05-17', '2000-02-29', null]);
    case 'photo_url':
      return random.pick(['https://example.com/p.jpg', null]);
    case 'since':
      return { [String(ids.matchId)]: random.pick([0, ids.seq]) };
    case 'seq':
      return ids.seq;
    case 'is_typing':
      return random.chance(0.5);
    default:
      return undefined;
  }
}

/** A value the schema accepts, with the ids filled in where the field names one. */
export function sample(
  schema: JsonSchema,
  ids: Identities,
  random: Random,
  name?: string,
): unknown {
  const named = name === undefined ? undefined : byName(name, ids, random);
  if (named !== undefined) return named;
  if (schema.anyOf) return sample(random.pick(schema.anyOf), ids, random, name);
  if (schema.enum) return random.pick(schema.enum);
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(schema.properties ?? {})) {
        // Optional fields: present half of the time.
        if (schema.required?.includes(key) || random.chance(0.5)) {
          out[key] = sample(child, ids, random, key);
        }
      }
      return out;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const max = Math.min(schema.maxItems ?? 3, min + 3);
      const length = min + random.int(max - min + 1);
      return Array.from({ length }, () => sample(schema.items ?? {}, ids, random));
    }
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum ?? 0) + 1;
      const max = Math.min(schema.maximum ?? min + 100, min + 100);
      return min + random.int(max - min + 1);
    }
    case 'boolean':
      return random.chance(0.5);
    case 'null':
      return null;
    case 'string': {
      const min = Math.max(schema.minLength ?? 1, 1);
      const max = Math.min(schema.maxLength ?? 20, min + 20);
      const length = min + random.int(max - min + 1);
      const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
      return Array.from({ length }, () => random.pick([...alphabet])).join('');
    }
    default:
      return random.pick(['x', 1, true]);
  }
}
