import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { quoteIdent, type DatabaseHandle } from '../src/connection';
import { readSqlFile, sqlFile } from '../src/sql/sql-file';
import { createTestSchema, openTestDatabase, type TestSchema } from '../src/testing';

// The SQL functions that hold rules have their current source in src/sql, one file each, named
// after the function (packages/db/README.md, "SQL functions"). These tests keep the files and the
// migrated database the same.

const sqlFiles = readdirSync(join(__dirname, '../src/sql'))
  .filter((name) => name.endsWith('.sql'))
  .sort();

describe('SQL files and the migrated database', () => {
  let testSchema: TestSchema;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    testSchema = await createTestSchema('db_sql_files');
    handle = await openTestDatabase(testSchema, 1);
  });

  afterAll(async () => {
    await handle?.close();
    await testSchema?.drop();
  });

  /** Each function of `schema` as `pg_get_functiondef` prints it, the schema's name made `<schema>`. */
  async function functionDefinitions(
    db: DatabaseHandle['db'],
    schema: string,
  ): Promise<Record<string, string>> {
    const { rows } = await sql<{ name: string; definition: string }>`
      SELECT p.proname AS name, pg_get_functiondef(p.oid) AS definition
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ${schema}
      ORDER BY p.proname`.execute(db);
    return Object.fromEntries(
      rows.map(({ name, definition }) => [name, definition.replaceAll(schema, '<schema>')]),
    );
  }

  test('when migrated, then every function of the schema has its file in src/sql and every file its function', async () => {
    const functions = await functionDefinitions(handle.db, testSchema.schema);
    expect(Object.keys(functions).map((name) => `${name}.sql`)).toEqual(sqlFiles);
  });

  test.each(sqlFiles)(
    'when migrated, then the database defines %s exactly as the file does',
    async (file) => {
      const name = file.replace(/\.sql$/, '');
      const migrated = (await functionDefinitions(handle.db, testSchema.schema))[name];

      // The file run on its own in an empty schema of the same search_path as the migration's,
      // dropped again in the same transaction: what the file defines, as the database prints it.
      const scratch = `${testSchema.schema}_file`;
      const fromFile = await handle.db.transaction().execute(async (trx) => {
        await sql.raw(`CREATE SCHEMA ${quoteIdent(scratch)}`).execute(trx);
        await sql`SELECT set_config('search_path', ${quoteIdent(scratch)}, true)`.execute(trx);
        await sql.raw(readSqlFile(file)).execute(trx);
        const definitions = await functionDefinitions(trx, scratch);
        await sql.raw(`DROP SCHEMA ${quoteIdent(scratch)} CASCADE`).execute(trx);
        return definitions[name];
      });

      expect(fromFile).toEqual(expect.stringContaining(`FUNCTION <schema>.${name}(`));
      expect(migrated).toBe(fromFile);
    },
  );

  test('when a SQL file differs from the text its migration pinned, then the migration refuses to run it', () => {
    const pinned = '0'.repeat(64);
    expect(() => sqlFile('append_messages.sql', pinned)).toThrow(
      /src\/sql\/append_messages\.sql is not the text this migration ran .*packages\/db\/README\.md/,
    );
  });
});
