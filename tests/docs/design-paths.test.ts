import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The design document says where each rule lives and which edge checks each input (docs/design.md
 * §8), and the README and the operations guide point at files too. A path that no longer exists
 * sends a reader nowhere, so every repository path they name in backticks must exist.
 */
const ROOT = path.resolve(__dirname, '../..');
const DOCUMENTS = ['docs/design.md', 'README.md', 'docs/operations.md'];

/** The folders a repository path starts with; anything else in backticks is not a path here. */
const SOURCE_ROOTS = ['apps', 'packages', 'tests', 'docs', 'k8s', 'infra', 'load-tests', '.ci'];

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Every backticked span of `text` that names something under one of the source roots. */
function repositoryPaths(text: string): string[] {
  const spans = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!);
  return [...new Set(spans)].filter((span) => SOURCE_ROOTS.includes(span.split('/')[0]!));
}

/** Whether `named` exists: a file or folder, or for a pattern (`*.routes.ts`), one that matches. */
function exists(named: string): boolean {
  const target = named.replace(/\/$/, '');
  if (!target.includes('*')) return existsSync(path.join(ROOT, target));
  const folder = path.dirname(target);
  const escaped = path.basename(target).replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped.replace(/\*/g, '[^/]*')}$`);
  return (
    existsSync(path.join(ROOT, folder)) &&
    readdirSync(path.join(ROOT, folder)).some((name) => pattern.test(name))
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
  it('when a path is picked out of a text, then only spans under a source root count', () => {
    expect(
      repositoryPaths(
        'see `apps/api/src/main.ts`, `packages/*/README.md`, `main.ts`, `/api/docs` and `k8s/`',
      ),
    ).toEqual(['apps/api/src/main.ts', 'packages/*/README.md', 'k8s/']);
  });

  it('when a path does not exist, then it is found missing', () => {
    expect(exists('packages/core/src/matches/match.service.ts')).toBe(true);
    expect(exists('apps/api/src/routes/*.routes.ts')).toBe(true);
    expect(exists('apps/api/src/routes/mystery.routes.ts')).toBe(false);
    expect(exists('apps/gateway/src/handlers/*.ts')).toBe(false);
  });

  it.each(DOCUMENTS)('when %s names a repository path, then it exists', (file) => {
    const named = repositoryPaths(read(file));
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((p) => !exists(p))).toEqual([]);
  });

  it('when the design document maps rules and inputs, then every route file and the event table are in it', () => {
    const map = ruleMap();
    expect(repositoryPaths(map).length).toBeGreaterThan(50);
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
