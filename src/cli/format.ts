// Output helpers of the `ais` CLI: AIStore-style tables (upper-case headers, columns padded with
// spaces), IEC sizes ("1.50MiB"), durations, bucket/object names with providers, and the progress bar.

export function table(headers: string[], rows: string[][], noHeaders = false): string {
  const all = noHeaders ? rows : [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('').trimEnd()).join('\n');
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** AIStore's cos.ToSizeIEC(n, 2): "0B", "512B", "1.00KiB", "3.25GiB". */
export function sizeIEC(n: number): string {
  if (n < 1024) return `${n}B`;
  let v = n;
  let u = -1;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(2)}${UNITS[u]}`;
}

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
}

export interface BucketName {
  provider: 'ais' | 'aws';
  name: string;
}

const SCHEMES: Record<string, 'ais' | 'aws'> = { ais: 'ais', s3: 'aws', aws: 'aws' };

/** "ais://b", "s3://b", "aws://b" or a bare "b" (ais), optionally followed by "/object/name". */
export function parseUri(arg: string): { bucket: BucketName; obj: string } {
  let provider: 'ais' | 'aws' = 'ais';
  let rest = arg;
  const m = /^([a-z0-9]+):\/\/(.*)$/i.exec(arg);
  if (m) {
    const p = SCHEMES[m[1]!.toLowerCase()];
    if (!p) throw new Error(`unknown provider "${m[1]}://" in "${arg}" (valid: ais://, s3://, aws://)`);
    provider = p;
    rest = m[2]!;
  } else if (/^[a-z0-9]+:$/i.test(arg)) {
    throw new Error(`"${arg}": expected PROVIDER://BUCKET, e.g. ais://${arg.slice(0, -1)}`);
  }
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const obj = slash < 0 ? '' : rest.slice(slash + 1);
  if (name === '') throw new Error(`"${arg}": missing bucket name`);
  return { bucket: { provider, name }, obj };
}

export function bucketString(b: BucketName): string {
  return `${b.provider === 'aws' ? 's3' : b.provider}://${b.name}`;
}

/** The `provider` query parameter for a bucket. */
export function providerQuery(b: BucketName): Record<string, string> {
  return b.provider === 'ais' ? {} : { provider: b.provider };
}

export function encodePath(s: string): string {
  return s.split('/').map(encodeURIComponent).join('/');
}

/**
 * A progress bar on stderr: redrawn in place on a terminal (at most 10 times a second); elsewhere
 * (forced with --progress) a line per 10% so logs stay readable.
 */
export class Progress {
  private done = 0;
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly tty: boolean,
    private readonly write: (s: string) => void,
  ) {}

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.write(`\r${this.line()}`);
    } else {
      const decile = this.total > 0 ? Math.floor((this.done / this.total) * 10) : -1;
      if (decile > this.lastDecile && decile < 10) {
        this.lastDecile = decile;
        this.write(`${this.line()}\n`);
      }
    }
  }

  finish(): void {
    this.write(`${this.tty ? '\r' : ''}${this.line()}\n`);
  }

  private line(): string {
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    const rate = `${sizeIEC(Math.round(this.done / secs))}/s`;
    if (this.total <= 0) return `${this.label} ${sizeIEC(this.done)} ${rate}`;
    const frac = Math.min(1, this.done / this.total);
    const width = 30;
    const full = Math.round(frac * width);
    return `${this.label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${sizeIEC(this.done)}/${sizeIEC(this.total)} ${rate}`;
  }
}

/** Flattens nested props/config to dotted keys, values as text. */
export function flattenProps(obj: unknown, prefix = '', out: [string, string][] = []): [string, string][] {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (v === undefined) continue;
      flattenProps(v, prefix ? `${prefix}.${k}` : k, out);
    }
  } else {
    out.push([prefix, Array.isArray(obj) ? (obj.length ? obj.join(',') : '-') : String(obj)]);
  }
  return out;
}

/** "k=v" or "k v" pairs from the command line. */
export function parseKeyValues(args: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    if (eq > 0) out.push([a.slice(0, eq), a.slice(eq + 1)]);
    else {
      if (i + 1 >= args.length) throw new Error(`missing value for "${a}" (expected ${a}=VALUE)`);
      out.push([a, args[++i]!]);
    }
  }
  return out;
}
