// A scaled API pod: Postgres for state, the Redis emitter to reach sockets on the gateway pods.
import { createServer } from 'node:http';
import { Emitter } from '@socket.io/redis-emitter';
import {
  closeHttpServer,
  closeOnSignal,
  connectRedis,
  createLogger,
  createServices,
  listen,
  socketIoKey,
} from '@mm/core';
import { openDatabase } from '@mm/db';
import { createApi } from './app';
import { loadApiConfig } from './config';

async function main(): Promise<void> {
  const config = loadApiConfig();
  const logger = createLogger({ level: config.log.level, name: 'api' });
  const database = await openDatabase(config.database);
  const redis = connectRedis(config.redis!.url, 'api-emitter', logger);
  const emitter = new Emitter(redis, { key: socketIoKey(config.keyPrefix) });

  const services = createServices({
    db: database.db,
    broadcaster: emitter,
    jwtSecret: config.auth.jwtSecret,
  });
  const server = createServer(createApi({ services, logger, devTokens: config.auth.devTokens }));
  const port = await listen(server, config.http.port, config.http.host);
  logger.info({ port }, 'api listening');

  closeOnSignal(logger, async () => {
    await closeHttpServer(server);
    await database.close();
    await redis.quit();
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
