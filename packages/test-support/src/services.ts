import {
  createServices,
  defaultDomainRules,
  type DomainDeps,
  type DomainRules,
  type RoomBroadcaster,
  type Services,
} from '@mm/core';
import type { DatabaseHandle } from '@mm/db';
import { createTestSchema, openTestDatabase, type TestSchema } from '@mm/db/testing';
import { uniqueRedisPrefix } from './processes';
import { JWT_SECRET } from './realtime';

/** The realtime port with nobody listening, for tests that look at REST answers only. */
export const nobodyListening: RoomBroadcaster = {
  to() {
    const operator = {
      except: () => operator,
      emit: () => undefined,
      socketsJoin: () => undefined,
      socketsLeave: () => undefined,
      disconnectSockets: () => undefined,
    };
    return operator;
  },
};

export interface TestServices {
  schema: TestSchema;
  database: DatabaseHandle;
  services: Services;
  close(): Promise<void>;
}

/**
 * The domain services over a fresh Postgres schema of their own, in memory otherwise (no Redis):
 * what an app's fast local tests mount `createApi` or `registerGateway` on, in the test's process.
 */
export async function openTestServices(
  label: string,
  options: {
    broadcaster?: RoomBroadcaster;
    rules?: Partial<DomainRules>;
    push?: DomainDeps['push'];
  } = {},
): Promise<TestServices> {
  const schema = await createTestSchema(label);
  const database = await openTestDatabase(schema, 3);
  const services = createServices({
    db: database.db,
    broadcaster: options.broadcaster ?? nobodyListening,
    jwtSecret: JWT_SECRET,
    rules: { ...defaultDomainRules(), ...options.rules },
    keyPrefix: uniqueRedisPrefix(label),
    ...(options.push && { push: options.push }),
  });
  return {
    schema,
    database,
    services,
    async close() {
      await database.close();
      await schema.drop();
    },
  };
}
