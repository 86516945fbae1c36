import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { commonEnv, loadAppConfig, parseEnv } from '@mm/core';

/**
 * The README is what an operator reads first: its configuration table must name every variable the
 * apps read, with the default the code applies, and its links must lead somewhere.
 */
const ROOT = path.resolve(__dirname, '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The rows of the table under `## Configuration`: variable name → default cell. */
function configurationTable(): Map<string, string> {
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*`([A-Z0-9_]+)`\s*\|([^|]*)\|/.exec(line);
    if (cells) rows.set(cells[1]!, cells[2]!.trim());
  }
  return rows;
}

describe('the README', () => {
  const table = configurationTable();
  const variables = Object.keys(commonEnv.shape);

  it('when the configuration table is read, then it lists exactly the variables of the env schema', () => {
    expect(variables.length).toBeGreaterThan(0);
    expect([...table.keys()].sort()).toEqual([...variables].sort());
  });

  it('when a variable has a default in the schema, then the table gives that default first', () => {
    const defaults: Record<string, unknown> = parseEnv(commonEnv, {});
    for (const name of variables) {
      const value = defaults[name];
      if (value === undefined) continue; // unset, or decided by mode: checked below
      expect({ name, default: table.get(name)!.split(' ')[0] }).toEqual({
        name,
        default: `\`${String(value)}\``,
      });
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
  });

  it('when it links a file of the repository, then the file exists', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1]!)
      .filter((target) => !/^[a-z]+:/.test(target));
    for (const target of [
      'docs/operations.md',
      'load-tests/README.md',
      'packages/client/README.md',
    ]) {
      expect(links).toContain(target);
    }
    for (const target of links) {
      expect({ target, exists: existsSync(path.join(ROOT, target)) }).toEqual({
        target,
        exists: true,
      });
    }
  });
});
