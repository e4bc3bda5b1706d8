// aisloader's human output: periodic lines and the final table, aligned the way AIStore's aisloader
// prints them (Time, OP, Count (Total), Size (Total), latencies, throughput, errors), with
// percentiles added.
import type { OpSummary } from './stats';

export function fmtLatency(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '-';
  if (ms < 1) return `${(ms * 1000).toFixed(0)}µs`;
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)}${units[u]}`;
}

export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtRate(n: number): string {
  if (n >= 1000) return fmtCount(n);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** Aligns rows of cells: the first `leftCols` columns to the left, the rest to the right. */
export function alignTable(rows: readonly (readonly string[])[], leftCols = 2, gap = 2): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map((r) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(widths[i] - [...c].length);
        return i < leftCols ? c + pad : pad + c;
      })
      .join(' '.repeat(gap))
      .trimEnd(),
  );
}

const PERIODIC_HEAD = ['Time', 'OP', 'Count (Total)', 'Size (Total)', 'ops/s', 'MiB/s', 'min', 'avg', 'p50', 'p90', 'p99', 'max', 'Errors (Total)'];
/** Fixed widths so that lines printed over time line up. */
const PERIODIC_WIDTHS = [8, 3, 23, 23, 9, 9, 8, 8, 8, 8, 8, 8, 14];

function fixed(cells: readonly string[]): string {
  return cells
    .map((c, i) => {
      const w = PERIODIC_WIDTHS[i];
      const pad = ' '.repeat(Math.max(0, w - [...c].length));
      return i < 2 ? c + pad : pad + c;
    })
    .join('  ')
    .trimEnd();
}

export function periodicHeader(): string {
  return fixed(PERIODIC_HEAD);
}

/** One periodic line: interval figures, with run totals in parentheses. */
export function periodicLine(time: Date, iv: OpSummary, total: OpSummary): string {
  const l = iv.latencyMs;
  return fixed([
    time.toTimeString().slice(0, 8),
    iv.op,
    `${fmtCount(iv.count)} (${fmtCount(total.count)})`,
    `${fmtBytes(iv.bytes)} (${fmtBytes(total.bytes)})`,
    fmtRate(iv.opsPerSec),
    fmtRate(iv.mibPerSec),
    fmtLatency(l.min),
    fmtLatency(l.avg),
    fmtLatency(l.p50),
    fmtLatency(l.p90),
    fmtLatency(l.p99),
    fmtLatency(l.max),
    `${fmtCount(iv.errors)} (${fmtCount(total.errors)})`,
  ]);
}

/** The final table: one row per op that ran. */
export function summaryTable(ops: readonly OpSummary[]): string[] {
  const rows: string[][] = [['OP', 'Count', 'Size', 'ops/s', 'MiB/s', 'min', 'avg', 'p50', 'p90', 'p99', 'max', 'Errors']];
  for (const s of ops) {
    const l = s.latencyMs;
    rows.push([
      s.op,
      fmtCount(s.count),
      fmtBytes(s.bytes),
      fmtRate(s.opsPerSec),
      fmtRate(s.mibPerSec),
      fmtLatency(l.min),
      fmtLatency(l.avg),
      fmtLatency(l.p50),
      fmtLatency(l.p90),
      fmtLatency(l.p99),
      fmtLatency(l.max),
      fmtCount(s.errors),
    ]);
  }
  return alignTable(rows, 1);
}
