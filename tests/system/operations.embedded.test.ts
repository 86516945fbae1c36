import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger, listen, loadAppConfig } from '@mm/platform';
import { startEmbedded, type EmbeddedService } from '@mm/embedded';
import { createUser, freshUserId } from '@mm/test-support/chat';
import { get, samples, total } from '@mm/test-support/http';

/**
 * The embedded default serves the same operations endpoints. Two services in one jest worker (one
 * process) each keep their own metrics registry: nothing clashes, nothing is counted twice.
 */
describe('operations endpoints of the embedded default', () => {
  const dirs: string[] = [];
  const services: EmbeddedService[] = [];
  const urls: string[] = [];

  beforeAll(async () => {
    const logger = createLogger({ level: 'silent', name: 'embedded' });
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'mm-ops-'));
      dirs.push(dataDir);
      const config = loadAppConfig('embedded', { DATA_DIR: dataDir });
      const service = await startEmbedded(config, logger);
      services.push(service);
      urls.push(`http://127.0.0.1:${await listen(service.server, 0, '127.0.0.1')}`);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(services.map((service) => service.close()));
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });

  it('when two embedded services run in one process, then each counts only its own traffic', async () => {
    await createUser(urls[0]!, freshUserId());
    await createUser(urls[0]!, freshUserId());

    const [first, second] = await Promise.all(urls.map((url) => get<string>(`${url}/metrics`)));
    const profileSaves = { route: '/api/users/me', app: 'embedded' };
    expect(total(first!.text, 'mm_http_request_duration_seconds_count', profileSaves)).toBe(2);
    expect(total(second!.text, 'mm_http_request_duration_seconds_count', profileSaves)).toBe(0);
    expect(total(first!.text, 'mm_db_query_duration_seconds_count')).toBeGreaterThan(0);
    expect(total(first!.text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(total(first!.text, 'mm_sockets_connected')).toBe(0);
  });

  it('when a service has served no message, then its message counters and ack histogram are there at 0', async () => {
    const { text } = await get<string>(`${urls[1]}/metrics`);
    expect(samples(text, 'mm_messages_sent_total')).toEqual([
      { labels: { result: 'stored', app: 'embedded' }, value: 0 },
      { labels: { result: 'duplicate', app: 'embedded' }, value: 0 },
    ]);
    expect(samples(text, 'mm_message_ack_seconds_count')).toEqual([
      { labels: { app: 'embedded' }, value: 0 },
    ]);
  });

  it('when PGlite answers, then readiness is 200 and the pool report says there is no pool', async () => {
    const url = urls[1]!;
    expect(await get(`${url}/health/ready`)).toMatchObject({
      status: 200,
      body: { ready: true, checks: { postgres: 'ok' } },
    });
    expect((await get(`${url}/health/live`)).status).toBe(200);
    expect((await get(`${url}/health/db-pool`)).body).toEqual({ kind: 'pglite' });
    expect((await get(`${url}/health`)).body).toMatchObject({
      status: 'ok',
      sockets: 0,
      in_flight_requests: expect.any(Number),
      memory: { percent: expect.any(Number) },
    });
  });
});
