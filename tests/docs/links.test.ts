import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Every markdown file of the repository is read by someone following its links, and every source
 * that cites the design (`docs/design.md §n`) sends its reader to a section. A link to a file that
 * moved, an anchor to a heading that was renamed, or a section number that no longer exists sends
 * them nowhere: each is found here.
 */
const ROOT = path.resolve(__dirname, '../..');
const DESIGN = 'docs/design.md';

/** Folders that hold what installs, builds and runs write (`.gitignore`), never documents. */
const SKIPPED = new Set([
  '.git',
  'node_modules',
  '.cache',
  'dist',
  '.turbo',
  'coverage',
  '.data',
  'artifacts',
  'test-results',
]);
/** Ignored output inside a folder that is otherwise read. */
const SKIPPED_PATHS = new Set(['load-tests/results']);

/** The files whose `§` citations are checked: sources and documents, not this file's examples. */
const CITING = /\.(ts|tsx|js|mjs|cjs|ya?ml|sql|md|sh)$/;
const THIS_FILE = 'tests/docs/links.test.ts';

/** Every file of the repository, as a path from the root, outside what builds write. */
function repositoryFiles(folder = ''): string[] {
  return readdirSync(path.join(ROOT, folder)).flatMap((name) => {
    const file = folder ? `${folder}/${name}` : name;
    if (SKIPPED.has(name) || SKIPPED_PATHS.has(file)) return [];
    return statSync(path.join(ROOT, file)).isDirectory() ? repositoryFiles(file) : [file];
  });
}

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces made hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** A markdown text without fenced code blocks and comments, where headings are not headings. */
function withoutBlocks(markdown: string): string {
  return markdown
    .replace(/^([ \t]*)(```|~~~)[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, '')
    .replace(/<!--[\s\S]*?-->/g, '');
}

/** A markdown text without code of any kind and comments, where links are not links. */
const prose = (markdown: string) => withoutBlocks(markdown).replace(/`[^`\n]*`/g, '');

/** The anchors a markdown text offers: its headings' (numbered as GitHub does repeats) and ids. */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of withoutBlocks(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count ? `${base}-${count}` : base);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(id!);
  return found;
}

/** The link targets of a markdown text: `[text](target)`, images, and HTML `href`/`src`. */
export function linkTargets(markdown: string): { text: string; target: string }[] {
  const text = prose(markdown);
  return [
    ...[...text.matchAll(/!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({
      text: m[1]!,
      target: m[2]!,
    })),
    ...[...text.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => ({ text: '', target: m[1]! })),
  ];
}

/** What is wrong with each relative link of `file` (whose text is `markdown`); empty when none. */
export function brokenLinks(
  file: string,
  markdown: string,
  readFile: (file: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  for (const { target } of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // an address
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const linked = pathPart
      ? path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(pathPart)))
      : file;
    const content = pathPart ? readFile(linked.replace(/\/$/, '')) : markdown;
    if (content === undefined) {
      problems.push(`${file}: ${target}: no such file`);
    } else if (anchor !== undefined && linked.endsWith('.md') && !anchors(content).has(anchor)) {
      problems.push(`${file}: ${target}: no heading with that anchor in ${linked}`);
    }
  }
  return problems;
}

/** The numbered sections of the design: `## 4. Wire contract` → `4`, `### 4.4 Delivery` → `4.4`. */
export function sections(design: string): Map<string, string> {
  const numbered = new Map<string, string>();
  for (const [, heading, number] of design.matchAll(/^#{2,4}\s+((\d+(?:\.\d+)*)\.?\s+.+)$/gm)) {
    numbered.set(number!, slug(heading!));
  }
  return numbered;
}

/**
 * What is wrong with each `§` citation of `file`: a number that is no section of the design, a
 * citation outside the design that does not name `docs/design.md` beside it (the brief it once
 * cited is not in the repository), or a `[§n](…design.md#anchor)` link whose anchor is another
 * section's.
 */
export function brokenCitations(
  file: string,
  text: string,
  numbered: Map<string, string>,
): string[] {
  const problems: string[] = [];
  for (const match of text.matchAll(/§\s?(\d+(?:\.\d+)*)(?:\s?[–-]\s?(\d+(?:\.\d+)*))?/g)) {
    const at = match.index;
    const line = text.slice(0, at).split('\n').length;
    const where = `${file}:${line}: ${match[0]}`;
    for (const number of [match[1]!, match[2]].filter((n): n is string => n !== undefined)) {
      if (!numbered.has(number)) problems.push(`${where}: docs/design.md has no section ${number}`);
    }
    if (file === DESIGN) continue;
    const link = /^§[^\]\n]*\]\([^)#]*design\.md(?:#([^)]+))?\)/.exec(text.slice(at));
    const named = [...text.slice(Math.max(0, at - 100), at).matchAll(/design\.md/gi)].pop();
    if (!link && named?.[0] !== 'design.md') {
      problems.push(`${where}: cite it as docs/design.md §n`);
    }
    if (link?.[1] !== undefined && link[1] !== numbered.get(match[1]!)) {
      problems.push(`${where}: links #${link[1]}, not section ${match[1]}`);
    }
  }
  return problems;
}

describe('the links and citations of the repository', () => {
  const files = repositoryFiles();
  const markdown = files.filter((file) => file.endsWith('.md'));
  const readIfExists = (file: string) => {
    const full = path.join(ROOT, file);
    if (!existsSync(full)) return undefined;
    return statSync(full).isDirectory() ? '' : read(file);
  };
  const numbered = sections(read(DESIGN));

  it('when headings are turned into anchors, then they are the ones GitHub makes', () => {
    expect(slug('4.4 Delivery guarantee')).toBe('44-delivery-guarantee');
    expect(slug('Faults: what each looks like and how long recovery takes')).toBe(
      'faults-what-each-looks-like-and-how-long-recovery-takes',
    );
    expect(slug('`npm ci` with a lockfile')).toBe('npm-ci-with-a-lockfile');
    expect([...anchors('# A\n## B\n## B\n```\n# not a heading\n```\n')]).toEqual(['a', 'b', 'b-1']);
    // A fence's indent is spaces on its own line: a blank line before two fences is not one block.
    expect([...anchors('# A\n\n```\nx\n```\n## B\n\n```sh\ny\n```\n')]).toEqual(['a', 'b']);
  });

  it('when a link leads nowhere, then it is found broken', () => {
    const docs: Record<string, string> = { 'docs/a.md': '# Title\n## 1. Shape\n', 'x/y.ts': '' };
    const readDoc = (file: string) => docs[file];
    const text =
      '[ok](a.md) [ok](a.md#1-shape) [ok](../x/y.ts) [ok](#own) [web](https://x.org/#a)\n' +
      '## Own\n[gone](b.md) [bad anchor](a.md#2-shape) <img src="none.png"> [own](#nope)\n' +
      '`[in code](missing.md)`\n```\n[in a block](missing.md)\n```\n';
    expect(brokenLinks('docs/c.md', text, readDoc)).toEqual([
      'docs/c.md: b.md: no such file',
      'docs/c.md: a.md#2-shape: no heading with that anchor in docs/a.md',
      'docs/c.md: #nope: no heading with that anchor in docs/c.md',
      'docs/c.md: none.png: no such file',
    ]);
  });

  it('when a citation names no section, or not the design, then it is found broken', () => {
    const design = sections('## 3. Rules\n### 3.4 Unlock\n### 3.5 Masking\n## 4. Wire\n');
    expect([...design.keys()]).toEqual(['3', '3.4', '3.5', '4']);
    const source =
      '// docs/design.md §3.4 and §3.4–3.5 and §4\n' +
      '// (docs/design.md\n//  §3.5)\n' +
      '// docs/design.md §3.9\n' +
      '// DESIGN.md §3.4\n' +
      '[§3.4](docs/design.md#34-unlock) [§3.5](docs/design.md#34-unlock)\n';
    expect(brokenCitations('src/x.ts', source, design)).toEqual([
      'src/x.ts:4: §3.9: docs/design.md has no section 3.9',
      'src/x.ts:5: §3.4: cite it as docs/design.md §n',
      'src/x.ts:6: §3.5: links #34-unlock, not section 3.5',
    ]);
  });

  it('when the repository is walked, then its documents and sources are all read', () => {
    expect(markdown).toEqual(
      expect.arrayContaining(['README.md', DESIGN, 'docs/decisions.md', 'tests/README.md']),
    );
    expect(markdown.filter((file) => file.includes('node_modules'))).toEqual([]);
    expect(numbered.size).toBeGreaterThan(15);
  });

  it.each(markdown)('when %s links a file or a heading, then it exists', (file) => {
    expect(brokenLinks(file, read(file), readIfExists)).toEqual([]);
  });

  it('when a source cites docs/design.md §n, then that section exists', () => {
    const citing = files.filter((file) => CITING.test(file) && file !== THIS_FILE);
    const problems = citing.flatMap((file) => brokenCitations(file, read(file), numbered));
    expect(problems).toEqual([]);
  });
});
