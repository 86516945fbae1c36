import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_DESCRIPTIONS, ERROR_STATUS } from '@mm/contract';

const DOC = path.resolve(__dirname, '../../docs/errors.md');

/** `code → {status, meaning}` from the table rows of the markdown file. */
function documented(markdown: string): Map<string, { status: number; meaning: string }> {
  const rows = new Map<string, { status: number; meaning: string }>();
  for (const line of markdown.split('\n')) {
    const row = /^\|\s*`([A-Z_]+)`\s*\|\s*(\d+)\s*\|\s*(.*?)\s*\|$/.exec(line);
    if (row) rows.set(row[1]!, { status: Number(row[2]), meaning: row[3]!.replaceAll('\\|', '|') });
  }
  return rows;
}

describe('the error code documentation', () => {
  it('when docs/errors.md is read, then it lists every code of the contract with its status and meaning, and no other', () => {
    const rows = documented(readFileSync(DOC, 'utf8'));
    const expected = new Map(
      Object.entries(ERROR_STATUS).map(([code, status]) => [
        code,
        { status, meaning: ERROR_DESCRIPTIONS[code as keyof typeof ERROR_STATUS] },
      ]),
    );
    // Out of date? Run `npm run docs:errors`.
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(expected));
  });
});
