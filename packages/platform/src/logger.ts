import pino, { type Logger } from 'pino';

/** pino's logger: what the apps log through, and what `@mm/core`'s `Logger` port is given. */
export type { Logger };

/** JSON logs on stdout, one line per event, as log collectors expect. */
export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    base: { pid: process.pid },
    redact: ['req.headers.authorization', 'token', '*.token'],
  });
}
