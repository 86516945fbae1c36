import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import {
  commonEnv,
  configurationMarkdown,
  loadAppConfig,
  parseEnv,
  variableDocs,
} from '@mm/platform';

/**
 * docs/configuration.md is what an operator reads to set the service up: it is generated from the
 * env schema, must be current, must name every variable the apps read with the default the code
 * applies, and must say what each mode does where the default depends on it.
 */
const DOC = path.resolve(__dirname, '../../docs/configuration.md');
const doc = readFileSync(DOC, 'utf8');

/** The rows of the table: variable name → default cell. */
function configurationTable(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const cells = /^\|\s*`([A-Z0-9_]+)`\s*\|([^|]*)\|/.exec(line);
    if (cells) rows.set(cells[1]!, cells[2]!.trim());
  }
  return rows;
}

describe('docs/configuration.md', () => {
  const table = configurationTable(doc);
  const variables = Object.keys(commonEnv.shape);

  it('when it is read, then it is what `npm run docs:config` generates from the env schema', async () => {
    const options = await prettier.resolveConfig(DOC);
    const generated = await prettier.format(configurationMarkdown(), { ...options, filepath: DOC });
    // Out of date? Run `npm run docs:config`.
    expect(doc).toBe(generated);
  });

  it('when a variable is in the env schema, then it has a description', () => {
    const undocumented = Object.entries(commonEnv.shape)
      .filter(([, schema]) => !variableDocs.get(schema)?.description)
      .map(([name]) => name);
    expect(undocumented).toEqual([]);
  });

  it('when the table is read, then it lists exactly the variables of the env schema', () => {
    expect(variables.length).toBeGreaterThan(0);
    expect([...table.keys()].sort()).toEqual([...variables].sort());
  });

  it('when a variable has a default in the schema, then the table gives that default', () => {
    const defaults: Record<string, unknown> = parseEnv(commonEnv, {});
    for (const name of variables) {
      const value = defaults[name];
      if (value === undefined) continue; // unset, or decided by mode: checked below
      expect({ name, default: table.get(name) }).toEqual({ name, default: `\`${String(value)}\`` });
    }
  });

  it('when a default depends on the mode, then the table says what each mode does', () => {
    const embedded = loadAppConfig('embedded', {});
    const scaled = loadAppConfig('scaled', {
      DATABASE_URL: 'postgres://db/mm',
      REDIS_URL: 'redis://redis:6379',
      JWT_SECRET: 'x'.repeat(32),
    });
    expect(table.get('DEV_TOKENS')).toBe(
      `\`${embedded.auth.devTokens}\` embedded, \`${scaled.auth.devTokens}\` scaled`,
    );
    expect(table.get('HOST')).toBe(
      `\`${embedded.http.host}\` embedded, \`${scaled.http.host}\` scaled`,
    );
    expect(table.get('TRUST_PROXY_HOPS')).toBe(
      `\`${embedded.http.trustProxyHops}\` embedded, \`${scaled.http.trustProxyHops}\` scaled`,
    );
    expect(embedded.database.kind).toBe('pglite');
    expect(table.get('DATABASE_URL')).toMatch(/PGlite/);
    expect(embedded.redis).toBeUndefined();
    expect(table.get('REDIS_URL')).toMatch(/in-memory/);
    expect(embedded.http.corsOrigins).toEqual([]);
    expect(table.get('CORS_ORIGINS')).toMatch(/own origin only/);
  });
});
