// AIStore's list/range templates (cmn/cos/template.go, bash brace style): "shard-{0000..0999}.tar",
// with a step "{1..10..2}", several ranges "a-{0..3}-b-{00..10}", zero padding kept from the start
// value. A template without a range is a prefix. Names are generated lazily: a range may be huge.

interface Range {
  start: number;
  end: number;
  step: number;
  width: number;
}

export interface ParsedTemplate {
  /** Literal text before, between and after the ranges (one more than ranges). */
  parts: string[];
  ranges: Range[];
}

const RANGE = /\{(\d+)\.\.(\d+)(?:\.\.(\d+))?\}/g;

/** Parses a template; undefined when it has no range (then it is a prefix). Throws on a bad range. */
export function parseTemplate(t: string): ParsedTemplate | undefined {
  const parts: string[] = [];
  const ranges: Range[] = [];
  let at = 0;
  for (const m of t.matchAll(RANGE)) {
    const start = Number(m[1]);
    const end = Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (end < start || step < 1 || !Number.isSafeInteger(end)) throw new Error(`invalid range "${m[0]}" in template "${t}" (expected {START..END[..STEP]}, START <= END)`);
    parts.push(t.slice(at, m.index));
    ranges.push({ start, end, step, width: m[1]!.length > 1 && m[1]!.startsWith('0') ? m[1]!.length : 0 });
    at = m.index! + m[0].length;
  }
  if (ranges.length === 0) {
    if (/[{}]/.test(t)) throw new Error(`invalid template "${t}" (expected ranges like {0000..0999})`);
    return undefined;
  }
  parts.push(t.slice(at));
  return { parts, ranges };
}

/** Every name of a parsed template, the last range varying fastest. */
export function* expandTemplate(p: ParsedTemplate): Generator<string> {
  const idx = p.ranges.map((r) => r.start);
  for (;;) {
    let name = p.parts[0]!;
    for (let i = 0; i < p.ranges.length; i++) {
      const r = p.ranges[i]!;
      name += String(idx[i]).padStart(r.width, '0') + p.parts[i + 1]!;
    }
    yield name;
    let k = p.ranges.length - 1;
    for (; k >= 0; k--) {
      const r = p.ranges[k]!;
      idx[k]! += r.step;
      if (idx[k]! <= r.end) break;
      idx[k] = r.start;
    }
    if (k < 0) return;
  }
}
