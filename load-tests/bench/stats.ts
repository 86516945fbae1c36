import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Percentile by nearest rank over a sorted copy; 0 for an empty sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export interface LatencySummary {
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

export function summarize(samplesMs: number[]): LatencySummary {
  return {
    p50_ms: round(percentile(samplesMs, 50)),
    p95_ms: round(percentile(samplesMs, 95)),
    p99_ms: round(percentile(samplesMs, 99)),
    max_ms: round(percentile(samplesMs, 100)),
  };
}

/** CPU ms used by each part of a system (`cpuUse` in systems.ts measures it). */
export interface CpuUse {
  /** The system's own processes: 2 gateways and 1 api, or the 2 relays. */
  app: number;
  /** Every PostgreSQL process, counting backends that closed meanwhile. */
  postgres: number;
  redis: number;
}

/** Writes a bench's result to load-tests/results/<kind>-<date>.json and prints it as JSON. */
export function writeResult(kind: string, result: { date: string }): void {
  const dir = path.join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${kind}-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result, null, 2));
  console.error(`written to ${file}`);
}
