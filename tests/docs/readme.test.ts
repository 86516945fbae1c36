import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The README is what a newcomer reads first: its two commands must be the ones the project runs,
 * the Node versions it names must be the ones it requires and tests on, it must lead to every
 * document, and it must stay short enough to be read (the behaviour lives in docs/design.md).
 * docs/configuration.md's own test checks the variables; links.test.ts checks every link.
 */
const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const readme = read('README.md');
const pkg = JSON.parse(read('package.json')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};

/** The lines of the first code block under `## Two commands`, comments dropped. */
function twoCommands(): string[] {
  const section = readme.split(/^## Two commands$/m)[1]?.split(/^## /m)[0] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .trim()
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim());
}

describe('the README', () => {
  it('when the two commands are read, then they install and start the embedded default and run every test', () => {
    expect(twoCommands()).toEqual(['npm install && npm start', 'npm test']);
    expect(pkg.scripts.start).toMatch(/node (--[\w-]+ )*apps\/embedded\/dist\/main\.js$/);
    expect(pkg.scripts.test).toMatch(/^scripts\/supported-node\.sh .*jest$/);
  });

  it('when it names Node versions, then they are the ones engines requires and the tests run on', () => {
    const minimum = /^>=(\d+)$/.exec(pkg.engines.node)?.[1];
    const tested = /^TESTED_NODE=(\d+)\.\d+\.\d+/m.exec(read('scripts/supported-node.sh'));
    expect(minimum).toBeDefined();
    expect(tested).not.toBeNull();
    expect(readme).toContain(`Node ${minimum} or later`);
    expect(readme).toContain(`Node ${tested![1]} LTS (${tested![0].split('=')[1]})`);
  });

  it('when a newcomer looks for the documents, then it links each of them', () => {
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!);
    for (const target of [
      'docs/design.md',
      'docs/decisions.md',
      'docs/configuration.md',
      'docs/operations.md',
      'docs/errors.md',
      'docs/events.md',
      'load-tests/README.md',
      'packages/client/README.md',
    ]) {
      expect(links).toContain(target);
    }
  });

  it('when it is read, then it is short: the behaviour is in docs/design.md', () => {
    expect(Buffer.byteLength(readme)).toBeLessThan(12_000);
    expect(readme).not.toMatch(/^## Configuration$/m);
  });
});
