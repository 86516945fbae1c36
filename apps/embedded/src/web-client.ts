import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';

/** The demo web client's build (`@mm/web`, `turbo run build`), or undefined when it is not built. */
export function webClientDir(): string | undefined {
  try {
    const dir = path.join(path.dirname(require.resolve('@mm/web/package.json')), 'dist');
    return existsSync(path.join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the web client's static files in front of the API. `GET /` answers a browser with the
 * app and everything else (curl, a JSON client) with the API's index; hashed assets are cached for
 * good, the page itself is revalidated so a new build shows at once.
 */
export function withWebClient(api: Express, dir: string): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/', (req, res, next) => {
    if (req.accepts(['json', 'html']) !== 'html') return next();
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(path.join(dir, 'index.html'));
  });
  app.use(
    express.static(dir, {
      index: false,
      setHeaders: (res, file) => {
        const immutable = file.startsWith(path.join(dir, 'assets') + path.sep);
        res.setHeader(
          'cache-control',
          immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  app.use(api);
  return app;
}
