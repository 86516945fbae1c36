// `npm start`: the embedded default. No Postgres or Redis needed; data stays in DATA_DIR.
import { closeOnSignal, createLogger, listen, loadAppConfig } from '@mm/platform';
import { startEmbedded } from './embedded';

async function main(): Promise<void> {
  const config = loadAppConfig('embedded');
  const logger = createLogger({ level: config.log.level, name: 'embedded' });
  const service = await startEmbedded(config, logger);
  const port = await listen(service.server, config.http.port, config.http.host);
  logger.info(
    { port, database: config.database.kind, devTokens: config.auth.devTokens },
    `mystery-match listening on http://localhost:${port}`,
  );
  closeOnSignal(logger, () => service.close());
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
