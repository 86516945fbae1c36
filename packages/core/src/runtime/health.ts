/** The `/health` body both apps answer with while the process can serve. */
export function healthReport(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const memory = process.memoryUsage();
  return {
    status: 'ok',
    uptime_s: Math.round(process.uptime()),
    memory: { rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed },
    ...extra,
  };
}
