import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase, PGLITE_DEFAULT_SETTINGS, type DatabaseHandle } from '../src/connection';

/** What PGlite's PostgreSQL says a setting is. */
async function show(handle: DatabaseHandle, name: string): Promise<string> {
  const { rows } = await sql<Record<string, string>>`SHOW ${sql.raw(name)}`.execute(handle.db);
  return Object.values(rows[0]!)[0]!;
}

describe("PGlite's PostgreSQL settings (the embedded default's memory)", () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'mm-db-pglite-settings-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('when a new data folder is opened with no settings, then PostgreSQL runs with the small defaults', async () => {
    expect(PGLITE_DEFAULT_SETTINGS.shared_buffers).toBe('16MB');
    const handle = await openDatabase({ kind: 'pglite', dataDir });
    try {
      expect(await show(handle, 'shared_buffers')).toBe('16MB');
      // PGlite's own flags are kept beside ours.
      expect(await show(handle, 'max_worker_processes')).toBe('0');
    } finally {
      await handle.close();
    }
  });

  test('when the folder is reopened with settings, then each is applied over the defaults', async () => {
    const handle = await openDatabase({
      kind: 'pglite',
      dataDir,
      settings: { shared_buffers: '32MB', work_mem: '2MB' },
    });
    try {
      expect(await show(handle, 'shared_buffers')).toBe('32MB');
      expect(await show(handle, 'work_mem')).toBe('2MB');
    } finally {
      await handle.close();
    }
  });
});
