import { commonEnv, parseEnv, variableDocs } from './env';

/** The rows of docs/configuration.md's table: every variable of `commonEnv`, in schema order. */
export function configurationRows(): { name: string; default: string; description: string }[] {
  const defaults: Record<string, unknown> = parseEnv(commonEnv, {});
  return Object.entries(commonEnv.shape).map(([name, schema]) => {
    const doc = variableDocs.get(schema);
    if (!doc) throw new Error(`${name} has no documentation in variableDocs (config/env.ts)`);
    const value = defaults[name];
    return {
      name,
      default: value === undefined ? (doc.unset ?? 'unset') : `\`${String(value)}\``,
      description: doc.description,
    };
  });
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** docs/configuration.md, whole: `npm run docs:config` writes it, a test checks it is current. */
export function configurationMarkdown(): string {
  return [
    '# Configuration',
    '',
    '<!-- Generated from packages/platform/src/config/env.ts by `npm run docs:config`; a test',
    '     fails when this file is out of date. Edit the descriptions there, not this file. -->',
    '',
    'Every app (`npm start`, `npm run start:api`, `npm run start:gateway`) reads the same',
    'environment variables and validates them once at start-up. A wrong value stops the process',
    'with a message that names the variable. An empty variable counts as unset. The scaled apps',
    'need `DATABASE_URL`, `REDIS_URL` and `JWT_SECRET` (or `JWT_JWKS_URL` with `JWT_ISSUER` and',
    '`JWT_AUDIENCE`: tokens from an identity provider); the embedded default needs nothing.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...configurationRows().map(
      (row) => `| \`${row.name}\` | ${cell(row.default)} | ${cell(row.description)} |`,
    ),
    '',
    '## Reachable by others',
    '',
    'An app bound to anything but a loopback address (`127.0.0.0/8`, `::1`, `localhost`), or run',
    'with `NODE_ENV=production`, is reachable by others. It refuses to start while anyone could act',
    'as any user there: with `JWT_SECRET` unset while HS256 tokens are accepted (they would verify',
    'with the development secret in the source) or with `DEV_TOKENS` on (unless',
    '`ALLOW_INSECURE_DEV_TOKENS=true`). An identity provider (`JWT_JWKS_URL`) with `DEV_TOKENS=false`',
    'stands in for `JWT_SECRET`: HS256 tokens are then refused, and discovery references need',
    '`PROFILE_REF_SECRET`. The message says which and what to set. So `HOST=0.0.0.0 npm start` needs',
    '`JWT_SECRET` (or the identity provider) and `DEV_TOKENS=false` (or the allowance). Why:',
    '[design.md §4.2](design.md#42-identity).',
    '',
  ].join('\n');
}
