// A latency histogram for the load generator: fixed buckets in one typed array, so recording a
// sample allocates nothing. Log-linear buckets in the manner of HdrHistogram: 1 µs wide up to
// 256 µs, then 128 buckets per power of two, i.e. within 0.8 % of the value, up to 2³² µs (71 minutes).
import { round, type LatencySummary } from './stats';

/** Buckets below the first power of two whose buckets widen: one per µs. */
const LINEAR = 256;
/** Buckets per power of two above it; their width is the power of two over this. */
const HALF = LINEAR / 2;
const BUCKETS = LINEAR + 24 * HALF;

/** The bucket of a value in µs. */
function bucketOf(us: number): number {
  if (us < LINEAR) return us < 0 ? 0 : us;
  if (us >= 2 ** 32) return BUCKETS - 1;
  const shift = 31 - Math.clz32(us) - 7; // ≥ 1: the mantissa (us >> shift) is in [128, 256)
  return Math.min(BUCKETS - 1, LINEAR + (shift - 1) * HALF + ((us >>> shift) - HALF));
}

/** The highest value in µs a bucket holds. */
function bucketTop(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const shift = Math.floor((bucket - LINEAR) / HALF) + 1;
  const mantissa = ((bucket - LINEAR) % HALF) + HALF;
  return (mantissa + 1) * 2 ** shift - 1;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private total = 0;
  private maxUs = 0;

  /** Records one sample, in milliseconds. */
  record(ms: number): void {
    const us = Math.round(ms * 1000);
    this.counts[bucketOf(us)]!++;
    this.total++;
    if (us > this.maxUs) this.maxUs = us;
  }

  get count(): number {
    return this.total;
  }

  /** The nearest-rank percentile in ms: the top of its bucket, never above the largest sample. */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.min(this.total, Math.max(1, Math.ceil((p / 100) * this.total)));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return Math.min(bucketTop(bucket), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    return {
      p50_ms: round(this.percentile(50)),
      p95_ms: round(this.percentile(95)),
      p99_ms: round(this.percentile(99)),
      max_ms: round(this.maxUs / 1000),
    };
  }
}
