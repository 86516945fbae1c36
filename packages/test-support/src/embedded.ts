import type { AddressInfo } from 'node:net';
import { createLogger, loadAppConfig } from '@mm/platform';
import { createTestSchema, type TestSchema } from '@mm/db/testing';
import { startEmbedded, type EmbeddedService } from '@mm/embedded';

/** REST and handshake limits no test's own traffic reaches (the limiters still run). */
export const HIGH_HTTP_RATE_LIMITS = {
  HTTP_RATE_LIMIT_PER_IP: '1000000',
  HTTP_RATE_LIMIT_PER_USER: '1000000',
  HANDSHAKE_RATE_LIMIT_PER_IP: '1000000',
};

export interface TestService {
  url: string;
  service: EmbeddedService;
  schema: TestSchema;
  stop(): Promise<void>;
}

/**
 * The embedded service in this process on a free port, over a Postgres schema of its own: the real
 * API, gateway and database, for tests that drive the REST API and sockets of one process.
 */
export async function startTestService(
  label: string,
  env: Record<string, string> = {},
): Promise<TestService> {
  const schema = await createTestSchema(label);
  const config = loadAppConfig('embedded', {
    DATABASE_URL: schema.url,
    DATABASE_SCHEMA: schema.schema,
    DATABASE_POOL_SIZE: '5',
    // Every test drives the API from 127.0.0.1 in bursts; only rate-limit tests lower these.
    ...HIGH_HTTP_RATE_LIMITS,
    ...env,
  });
  const service = await startEmbedded(config, createLogger({ level: 'silent', name: label }));
  await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
  const { port } = service.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    schema,
    async stop() {
      await service.close();
      await schema.drop();
    },
  };
}
