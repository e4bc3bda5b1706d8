// Counters of one target, named after AIStore's Prometheus metrics (get_count, err_cksum_count, ...).
// They live in a SharedArrayBuffer with one row per HTTP thread of the node: each thread bumps only its
// own row (plain `++`, no atomics, no lost updates), and whoever reports (/metrics, node status) sums
// the rows. A counter is a float64: exact up to 2^53, enough for bytes.
export const STAT_FIELDS = ['getCount', 'getBytes', 'putCount', 'putBytes', 'headCount', 'delCount', 'lstCount', 'errGetCount', 'errPutCount', 'errCksum', 'gfnCount', 'remoteGetCount', 'remoteGetBytes', 'getSendfileCount', 'renameCount', 'mpuPlacedCount'] as const;

export type StatField = (typeof STAT_FIELDS)[number];
export type StatsSnapshot = Record<StatField, number>;

const N = STAT_FIELDS.length;

/** The shared table: `rows` HTTP threads × the counters. Made by the main thread, posted to the others. */
export function newStatsTable(rows: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, rows) * N * 8);
}

export class TargetStats {
  /** This thread's row: read and written by the accessors defined below the class. */
  protected readonly row: Float64Array;
  private readonly all: Float64Array;

  /** `table`/`row`: this thread's row of the node's table; by default a table of one row of its own. */
  constructor(table: SharedArrayBuffer = newStatsTable(1), row = 0) {
    this.all = new Float64Array(table);
    this.row = this.all.subarray(row * N, (row + 1) * N);
  }

  /** The node's totals: every thread's row added up. */
  snapshot(): StatsSnapshot {
    const out = {} as StatsSnapshot;
    STAT_FIELDS.forEach((f, i) => {
      let sum = 0;
      for (let r = i; r < this.all.length; r += N) sum += this.all[r]!;
      out[f] = sum;
    });
    return out;
  }
}

// One accessor per counter on the prototype, so that handlers keep writing `stats.getCount++`.
export interface TargetStats extends StatsSnapshot {}
STAT_FIELDS.forEach((f, i) => {
  Object.defineProperty(TargetStats.prototype, f, {
    get(this: { row: Float64Array }) {
      return this.row[i];
    },
    set(this: { row: Float64Array }, v: number) {
      this.row[i] = v;
    },
  });
});
