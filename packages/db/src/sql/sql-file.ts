import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type RawBuilder } from 'kysely';

// The .sql files beside this module hold the current source of the SQL functions that hold rules
// (packages/db/README.md, "SQL functions"). They are read from beside the running code: from
// src/ in tests and tsx, from dist/ once built (the build copies them).

/** The text of a SQL file of this folder, with `\n` line endings whatever the checkout did. */
export function readSqlFile(name: string): string {
  return readFileSync(join(__dirname, name), 'utf8').replace(/\r\n/g, '\n');
}

/**
 * A SQL file of this folder as a statement, for the migration that runs it. `pinned` is the
 * sha256 of the text that migration was written for: a migration is frozen in time, so a file
 * changed without a new migration is refused here rather than run differently on new databases
 * than it ran on old ones.
 */
export function sqlFile(name: string, pinned: string): RawBuilder<unknown> {
  const text = readSqlFile(name);
  const actual = createHash('sha256').update(text).digest('hex');
  if (actual !== pinned) {
    throw new Error(
      `src/sql/${name} is not the text this migration ran (sha256 ${actual}, pinned ${pinned}): ` +
        'a change to it is a new migration (packages/db/README.md, "SQL functions")',
    );
  }
  return sql.raw(text);
}
