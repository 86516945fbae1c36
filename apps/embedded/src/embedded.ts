import { createServer, type Server } from 'node:http';
import { mkdirSync } from 'node:fs';
import { createApi } from '@mm/api';
import { createServices, type AppConfig, type Logger } from '@mm/core';
import { migrateToLatest, openDatabase } from '@mm/db';
import { createSocketServer, registerGateway } from '@mm/gateway';

export interface EmbeddedService {
  server: Server;
  close(): Promise<void>;
}

/**
 * The whole service in one process: the REST API and the Socket.IO gateway on one HTTP server,
 * PGlite (or DATABASE_URL when set) migrated at start, and Socket.IO's in-memory adapter, which is
 * also the broadcaster the API's side effects go through.
 */
export async function startEmbedded(config: AppConfig, logger: Logger): Promise<EmbeddedService> {
  if (config.database.kind === 'pglite') mkdirSync(config.database.dataDir, { recursive: true });
  const database = await openDatabase(config.database);
  await migrateToLatest(
    database.db,
    config.database.kind === 'postgres' ? config.database.schema : undefined,
  );

  const server = createServer();
  const io = createSocketServer(server);
  const services = createServices({
    db: database.db,
    broadcaster: io,
    jwtSecret: config.auth.jwtSecret,
  });
  registerGateway(io, { services, logger });
  server.on('request', createApi({ services, logger, devTokens: config.auth.devTokens }));

  return {
    server,
    async close() {
      await io.close(); // disconnects every socket and closes the HTTP server
      await database.close();
    },
  };
}
