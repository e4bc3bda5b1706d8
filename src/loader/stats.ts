// Per-operation statistics in flat Float64Arrays, so that a worker thread can keep them in a
// SharedArrayBuffer that the main thread reads (and merges across threads) without messages.
// Latencies go into a log-linear histogram (HDR-like: 64 linear sub-buckets per power of two, ≤1.6 %
// relative error) in units of 0.1 µs; min, max and sum are exact.

/** Latency unit of the histogram, in ms (0.1 µs). */
const TICK_MS = 1e-4;
const LINEAR = 128;
const SUB = 64;
/** Buckets up to 2^32 ticks (~7 minutes); slower requests land in the last one. */
export const HIST_BUCKETS = LINEAR + (32 - 7) * SUB;

// Slots of one op's block.
const COUNT = 0;
const BYTES = 1;
const ERRORS = 2;
const LAT_SUM = 3;
const LAT_MIN = 4;
const LAT_MAX = 5;
/** Interval min/max: reset by the reader at each periodic line (a lost sample there is harmless). */
const IV_MIN = 6;
const IV_MAX = 7;
const HIST = 8;
export const OP_SLOTS = HIST + HIST_BUCKETS;

export const OPS = ['PUT', 'GET'] as const;
export type OpName = (typeof OPS)[number];
export const OP_PUT = 0;
export const OP_GET = 1;

export function bucketOf(ms: number): number {
  const v = Math.floor(ms / TICK_MS);
  if (v < LINEAR) return v < 0 ? 0 : v;
  if (v >= 2 ** 32) return HIST_BUCKETS - 1;
  const e = 31 - Math.clz32(v); // v in [2^e, 2^(e+1)), e ≥ 7
  const shift = e - 6; // v >>> shift in [64, 128)
  return LINEAR + (e - 7) * SUB + ((v >>> shift) - SUB);
}

/** Midpoint of a bucket, in ms. */
export function bucketValue(i: number): number {
  if (i < LINEAR) return (i + 0.5) * TICK_MS;
  const e = Math.floor((i - LINEAR) / SUB) + 7;
  const shift = e - 6;
  const low = (SUB + ((i - LINEAR) % SUB)) * 2 ** shift;
  return (low + 2 ** (shift - 1)) * TICK_MS;
}

/** Stats of all ops of one thread (or a merge of several): a view on a Float64Array. */
export class LoadStats {
  readonly a: Float64Array;

  constructor(buf?: Float64Array) {
    this.a = buf ?? new Float64Array(OPS.length * OP_SLOTS);
    if (!buf) this.reset();
  }

  static shared(): LoadStats {
    const s = new LoadStats(new Float64Array(new SharedArrayBuffer(OPS.length * OP_SLOTS * 8)));
    s.reset();
    return s;
  }

  reset(): void {
    this.a.fill(0);
    for (let op = 0; op < OPS.length; op++) {
      this.a[op * OP_SLOTS + LAT_MIN] = Infinity;
      this.a[op * OP_SLOTS + IV_MIN] = Infinity;
    }
  }

  ok(op: number, bytes: number, ms: number): void {
    const a = this.a;
    const b = op * OP_SLOTS;
    a[b + COUNT]++;
    a[b + BYTES] += bytes;
    a[b + LAT_SUM] += ms;
    if (ms < a[b + LAT_MIN]) a[b + LAT_MIN] = ms;
    if (ms > a[b + LAT_MAX]) a[b + LAT_MAX] = ms;
    if (ms < a[b + IV_MIN]) a[b + IV_MIN] = ms;
    if (ms > a[b + IV_MAX]) a[b + IV_MAX] = ms;
    a[b + HIST + bucketOf(ms)]++;
  }

  error(op: number): void {
    this.a[op * OP_SLOTS + ERRORS]++;
  }

  count(op: number): number {
    return this.a[op * OP_SLOTS + COUNT];
  }

  errors(op: number): number {
    return this.a[op * OP_SLOTS + ERRORS];
  }

  /** Adds another thread's stats (a copy is taken first: the other side keeps writing). */
  merge(other: LoadStats): void {
    const a = this.a;
    const o = other.a.slice();
    for (let op = 0; op < OPS.length; op++) {
      const b = op * OP_SLOTS;
      a[b + COUNT] += o[b + COUNT];
      a[b + BYTES] += o[b + BYTES];
      a[b + ERRORS] += o[b + ERRORS];
      a[b + LAT_SUM] += o[b + LAT_SUM];
      a[b + LAT_MIN] = Math.min(a[b + LAT_MIN], o[b + LAT_MIN]);
      a[b + LAT_MAX] = Math.max(a[b + LAT_MAX], o[b + LAT_MAX]);
      a[b + IV_MIN] = Math.min(a[b + IV_MIN], o[b + IV_MIN]);
      a[b + IV_MAX] = Math.max(a[b + IV_MAX], o[b + IV_MAX]);
      for (let i = HIST; i < OP_SLOTS; i++) a[b + i] += o[b + i];
    }
  }

  /** Takes the interval min/max of every op and starts new ones (see IV_MIN). */
  takeInterval(): { min: number; max: number }[] {
    const out: { min: number; max: number }[] = [];
    for (let op = 0; op < OPS.length; op++) {
      const b = op * OP_SLOTS;
      out.push({ min: this.a[b + IV_MIN], max: this.a[b + IV_MAX] });
      this.a[b + IV_MIN] = Infinity;
      this.a[b + IV_MAX] = 0;
    }
    return out;
  }

  /** Summary of one op over `seconds`; `prev` (an earlier snapshot) turns it into an interval summary. */
  summary(op: number, seconds: number, prev?: LoadStats, interval?: { min: number; max: number }): OpSummary {
    const a = this.a;
    const b = op * OP_SLOTS;
    const p = prev?.a;
    const d = (slot: number): number => a[b + slot] - (p ? p[b + slot] : 0);
    const count = d(COUNT);
    const bytes = d(BYTES);
    const hist = new Float64Array(HIST_BUCKETS);
    for (let i = 0; i < HIST_BUCKETS; i++) hist[i] = d(HIST + i);
    const min = interval ? interval.min : a[b + LAT_MIN];
    const max = interval ? interval.max : a[b + LAT_MAX];
    const pct = (q: number): number => clamp(percentile(hist, count, q), min, max);
    return {
      op: OPS[op],
      count,
      bytes,
      errors: d(ERRORS),
      seconds,
      opsPerSec: seconds > 0 ? count / seconds : 0,
      mibPerSec: seconds > 0 ? bytes / 2 ** 20 / seconds : 0,
      latencyMs: {
        min: count ? min : 0,
        avg: count ? d(LAT_SUM) / count : 0,
        p50: count ? pct(0.5) : 0,
        p90: count ? pct(0.9) : 0,
        p99: count ? pct(0.99) : 0,
        max: count ? max : 0,
      },
    };
  }

  snapshot(): LoadStats {
    return new LoadStats(this.a.slice());
  }
}

export interface OpSummary {
  op: OpName;
  count: number;
  bytes: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  mibPerSec: number;
  latencyMs: { min: number; avg: number; p50: number; p90: number; p99: number; max: number };
}

function percentile(hist: Float64Array, count: number, q: number): number {
  const rank = Math.max(1, Math.ceil(q * count));
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen >= rank) return bucketValue(i);
  }
  return bucketValue(hist.length - 1);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
