import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The design document says where each rule lives and which edge checks each input (docs/design.md
 * §8); the README, the operations guide and each folder's README point at files too. A path that
 * no longer exists sends a reader nowhere, so every path they name in backticks must exist.
 */
const ROOT = path.resolve(__dirname, '../..');

/** Documents that name paths from the repository's root. */
const ROOT_DOCUMENTS = ['docs/design.md', 'README.md', 'docs/operations.md', 'docs/decisions.md'];

/** The folders a path from the root starts with; anything else in backticks is not one. */
const SOURCE_ROOTS = ['apps', 'packages', 'tests', 'docs', 'k8s', 'infra', 'load-tests', '.ci'];

/** Folder READMEs, which name paths from their folder (or its `src/`). */
const FOLDER_READMES = [
  ...['apps', 'packages'].flatMap((parent) =>
    readdirSync(path.join(ROOT, parent)).map((name) => `${parent}/${name}/README.md`),
  ),
  'load-tests/README.md',
  'k8s/README.md',
  'infra/README.md',
].filter((file) => existsSync(path.join(ROOT, file)));

/** What builds and test runs write (the names of `.gitignore`), never part of the repository. */
const OUTPUTS = ['node_modules', 'dist', '.turbo', 'coverage', '.data', 'artifacts'];

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const spans = (text: string) => [...new Set([...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!))];

/** The backticked spans of `text` that are paths from the root. */
function rootPaths(text: string): string[] {
  return spans(text).filter((span) => SOURCE_ROOTS.includes(span.split('/')[0]!));
}

/**
 * The backticked spans of a folder's README that name a file or folder: they hold a `/` or end in
 * a source extension. Addresses (`/health`), placeholders (`<name>`), URLs, package names and
 * build or test output are not.
 */
function folderPaths(text: string): string[] {
  return spans(text).filter(
    (span) =>
      (span.includes('/') || /\.(ts|tsx|js|mjs|cjs|sql|ya?ml|json)$/.test(span)) &&
      !/^[/@.]|<|:\/\//.test(span) &&
      !span.split('/').some((segment) => OUTPUTS.includes(segment)),
  );
}

/** Whether `named` exists under `base`: a file or folder, or for a pattern (`*.yml`), a match. */
function existsUnder(base: string, named: string): boolean {
  const target = path.join(ROOT, base, named.replace(/\/$/, ''));
  if (!named.includes('*')) return existsSync(target);
  const folder = path.dirname(target);
  const escaped = path.basename(target).replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped.replace(/\*/g, '[^/]*')}$`);
  return existsSync(folder) && readdirSync(folder).some((name) => pattern.test(name));
}

/** A folder README's path: from its folder, from its `src/`, or a compiled `.js` of a source. */
function existsFromFolder(folder: string, named: string): boolean {
  const source = named.replace(/\.js$/, '.ts');
  return [folder, `${folder}/src`].some(
    (base) => existsUnder(base, named) || existsUnder(base, source),
  );
}

/** The text of the section of docs/design.md headed `## 8.` (the rule map). */
function ruleMap(): string {
  return (
    read('docs/design.md')
      .split(/^## 8\. /m)[1]
      ?.split(/^## /m)[0] ?? ''
  );
}

describe('the paths the documents name', () => {
  it('when paths are picked out of a text, then only spans that name a path count', () => {
    const text =
      'see `apps/api/src/main.ts`, `packages/*/README.md`, `main.ts`, `/api/docs` and `k8s/`';
    expect(rootPaths(text)).toEqual(['apps/api/src/main.ts', 'packages/*/README.md', 'k8s/']);
    expect(
      folderPaths('`src/sql/<name>.sql`, `config/env.ts`, `dist/sql`, `@mm/db`, `/metrics`, `x`'),
    ).toEqual(['config/env.ts']);
  });

  it('when a named path does not exist, then it is found missing', () => {
    expect(existsUnder('.', 'packages/core/src/matches/match.service.ts')).toBe(true);
    expect(existsUnder('.', 'apps/api/src/routes/*.routes.ts')).toBe(true);
    expect(existsUnder('.', 'apps/api/src/routes/mystery.routes.ts')).toBe(false);
    expect(existsUnder('.', 'apps/gateway/src/handlers/*.ts')).toBe(false);
    expect(existsFromFolder('packages/platform', 'config/env.ts')).toBe(true);
    expect(existsFromFolder('packages/db', 'migrate.cli.js')).toBe(true);
    expect(existsFromFolder('packages/core', 'config/env.ts')).toBe(false);
  });

  it.each(ROOT_DOCUMENTS)('when %s names a path from the root, then it exists', (file) => {
    const named = rootPaths(read(file));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((p) => !existsUnder('.', p))).toEqual([]);
  });

  it.each(FOLDER_READMES)('when %s names a path, then it exists', (file) => {
    const folder = path.dirname(file);
    const named = folderPaths(read(file));
    expect(named.filter((p) => !existsFromFolder(folder, p) && !existsUnder('.', p))).toEqual([]);
  });

  it('when the design document maps rules and inputs, then it names every route file and the other edges', () => {
    const map = ruleMap();
    expect(rootPaths(map).length).toBeGreaterThan(50);
    const routes = readdirSync(path.join(ROOT, 'apps/api/src/routes'))
      .filter((name) => name.endsWith('.routes.ts'))
      .map((name) => `apps/api/src/routes/${name}`);
    for (const edge of [
      ...routes,
      'apps/gateway/src/events/client-events.ts',
      'apps/gateway/src/handshake.ts',
      'packages/platform/src/config/env.ts',
    ]) {
      expect({ edge, named: map.includes(`\`${edge}\``) }).toEqual({ edge, named: true });
    }
  });
});
