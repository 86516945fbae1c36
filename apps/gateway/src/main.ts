// A scaled gateway pod: sockets here, rooms shared with the other pods through Redis.
import { createServer } from 'node:http';
import { closeOnSignal, createLogger, createServices, healthReport, listen } from '@mm/core';
import { openDatabase } from '@mm/db';
import { loadGatewayConfig } from './config';
import { registerGateway } from './gateway';
import { useRedisAdapter } from './redis-adapter';
import { createSocketServer } from './socket-server';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const logger = createLogger({ level: config.log.level, name: 'gateway' });
  const database = await openDatabase(config.database);

  const server = createServer((req, res) => {
    const ok = req.url === '/health';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? healthReport({ sockets: io.engine.clientsCount })
          : { error: { code: 'NOT_FOUND', message: 'Not found.' } },
      ),
    );
  });
  const io = createSocketServer(server);
  const adapter = useRedisAdapter(io, config.redis!.url, config.redis!.prefix, logger);
  const services = createServices({
    db: database.db,
    broadcaster: io,
    jwtSecret: config.auth.jwtSecret,
  });
  registerGateway(io, { services, logger });

  const port = await listen(server, config.http.port, config.http.host);
  logger.info({ port }, 'gateway listening');

  closeOnSignal(logger, async () => {
    await io.close(); // disconnects every socket and closes the HTTP server
    await adapter.close();
    await database.close();
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
