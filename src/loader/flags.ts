// aisloader's command line, in AIStore's style: single-dash flags (`-numworkers 8`, `-numworkers=8`),
// booleans bare or with `=true|false`, sizes with suffixes (4KiB, 1MiB, 1M, 1G), durations (30s, 1m).
// Parsing is a pure function from argv to a LoaderConfig (but for reading -tokenfile); every mistake
// names the flag.
import fs from 'node:fs';

export interface LoaderConfig {
  /** Base URL of the cluster, e.g. http://127.0.0.1:8080. */
  endpoint: string;
  host: string;
  port: number;
  bucket: string;
  /** The S3 API under `/s3` (-s3) instead of the native one (/v1/objects, /v1/buckets). */
  s3: boolean;
  /** Path prefix of object requests: '/s3' with -s3, else '/v1/objects'. */
  apiPrefix: string;
  /** Bucket provider: ais://, or s3:// (alias aws://) for a remote bucket. */
  provider: 'ais' | 'aws';
  /** Query of native requests naming the provider ('?provider=aws' for s3://), '' otherwise. */
  providerQuery: string;
  /** -etl: an ETL's name or a built-in (md5, echo, upper); '' none. */
  etl: string;
  /** -etlspec: a spec file. */
  etlSpec: string;
  /** The ETL GETs go through, once the run has it (etl.ts). */
  etlName?: string;
  /** Milliseconds; 0 = no time limit (then -maxputs or -totalputsize must bound the run). */
  durationMs: number;
  numWorkers: number;
  /** worker_threads running the connections (1 = all in the main thread). */
  threads: number;
  pctPut: number;
  minSize: number;
  maxSize: number;
  /** Bytes; 0 = no limit. */
  totalPutSize: number;
  /** Objects; 0 = no limit. */
  maxPuts: number;
  cleanup: boolean;
  readOff: number;
  /** 0 = to the end of the object (a range only when readOff > 0). */
  readLen: number;
  /** Seconds between periodic lines; 0 = none. */
  statsIntervalSec: number;
  json: boolean;
  seed: number;
  /** Object names (for GET) read from this file, one per line, instead of listing the bucket. */
  fileList: string;
  /** Virtual directory of the objects written (and the listing prefix for GET). */
  subdir: string;
  /** JSON of bucket properties applied before the run (native PATCH /v1/buckets, AIStore's -bprops). */
  bprops: string;
  /** Pick GET objects in order instead of at random (each object read once per pass). */
  uniqueGets: boolean;
  /** PUT bodies with Transfer-Encoding: chunked instead of Content-Length. */
  chunked: boolean;
  /** Bearer token of a cluster with auth on (-tokenfile), '' for none. */
  token: string;
  /** Give up on one request after this many ms (0 = never). */
  timeoutMs: number;
  quiet: boolean;
  /** An https:// endpoint: the CA to trust (PEM, AIS_CLIENT_CA) and AIS_SKIP_VERIFY_CRT. */
  tls?: TlsOptions;
}

export interface TlsOptions {
  ca?: string;
  skipVerify: boolean;
}

interface FlagSpec {
  kind: 'string' | 'int' | 'size' | 'duration' | 'bool' | 'float';
  help: string;
  def: string;
  alias?: string[];
}

export const FLAGS: Record<string, FlagSpec> = {
  ip: { kind: 'string', def: 'localhost', help: 'cluster (gateway) host' },
  port: { kind: 'int', def: '8080', help: 'cluster (gateway) port' },
  endpoint: { kind: 'string', def: '', help: 'cluster URL, e.g. http://127.0.0.1:8080 or https://... (overrides -ip/-port; default $AIS_ENDPOINT; https: AIS_CLIENT_CA, AIS_SKIP_VERIFY_CRT)' },
  bucket: { kind: 'string', def: '', help: 'bucket name (S3 name; "ais://" prefix accepted); created if missing' },
  s3: { kind: 'bool', def: 'false', help: 'use the S3 API at /s3 instead of the native API (/v1/objects)' },
  duration: { kind: 'duration', def: '1m', help: 'run time (e.g. 30s, 1m; 0 = until -maxputs/-totalputsize)' },
  numworkers: { kind: 'int', def: '10', help: 'concurrent requests (one keep-alive connection each)' },
  threads: { kind: 'int', def: '1', help: 'worker threads sharing -numworkers (use 2+ when one Node thread caps the load)' },
  pctput: { kind: 'int', def: '0', help: 'percentage of PUTs (0: GET only, 100: PUT only)' },
  minsize: { kind: 'size', def: '1MiB', help: 'minimum object size (4KiB, 1MiB, 1M, 1G...)' },
  maxsize: { kind: 'size', def: '1MiB', help: 'maximum object size' },
  totalputsize: { kind: 'size', def: '0', help: 'stop after writing this many bytes (0 = no limit)' },
  maxputs: { kind: 'int', def: '0', help: 'stop after this many PUTs (0 = no limit)' },
  cleanup: { kind: 'bool', def: 'false', help: 'delete the objects this run wrote, at the end' },
  readoff: { kind: 'size', def: '0', help: 'GET a range starting at this offset' },
  readlen: { kind: 'size', def: '0', help: 'GET a range of this length (0 = whole object, or to the end with -readoff)' },
  statsinterval: { kind: 'int', def: '10', help: 'seconds between periodic stats lines (0 = none)' },
  json: { kind: 'bool', def: 'false', help: 'final stats as JSON on stdout (progress lines go to stderr)' },
  seed: { kind: 'int', def: '0', help: 'random seed: names, sizes and contents of written objects (0 = random)' },
  filelist: { kind: 'string', def: '', help: 'file with object names to GET, one per line (instead of listing the bucket)', alias: ['objnames'] },
  subdir: { kind: 'string', def: '', help: 'virtual directory for written objects; also the listing prefix for GET' },
  bprops: { kind: 'string', def: '', help: 'bucket properties to set first, JSON, e.g. \'{"checksum":{"md5_etag":false}}\'' },
  uniquegets: { kind: 'bool', def: 'false', help: 'GET objects in turn instead of at random' },
  tokenfile: { kind: 'string', def: '', help: 'file with the token of a cluster with auth on ({"token":"..."} as `ais auth token --save` writes, or the bare token)' },
  chunked: { kind: 'bool', def: 'false', help: 'send PUT bodies with Transfer-Encoding: chunked (no Content-Length)' },
  timeout: { kind: 'duration', def: '0', help: 'per-request timeout (0 = none)' },
  quiet: { kind: 'bool', def: 'false', help: 'no periodic lines, only the summary' },
  etl: { kind: 'string', def: '', help: 'GET every object through this ETL (native API): an ETL of the cluster, or md5 / echo / upper: the example transformer, started for the run on every target (they need --etl-commands) and removed after' },
  etlspec: { kind: 'string', def: '', help: 'GET through an ETL made from this spec file (JSON, as `ais etl init --spec`) for the run, removed after' },
  help: { kind: 'bool', def: 'false', help: 'this help', alias: ['h'] },
};

export class FlagError extends Error {}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** "4KiB" → 4096, "1M" → 1048576 (single letters are binary, as in AIStore), "1MB" → 10^6. */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  if (!m) throw new FlagError(`invalid size "${s}" (e.g. 4096, 4KiB, 1MiB, 1M, 1G)`);
  const unit = SIZE_UNITS[m[2].toLowerCase()];
  if (unit === undefined) throw new FlagError(`invalid size unit in "${s}" (valid: B, K, KiB, KB, M, MiB, MB, G, GiB, GB, T, TiB, TB)`);
  const v = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(v)) throw new FlagError(`size "${s}" is too large`);
  return v;
}

/** "30s" → 30000, "1m" → 60000, "1h30m", "500ms", plain numbers are seconds. */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    pos = re.lastIndex;
  }
  if (t === '' || pos !== t.length) throw new FlagError(`invalid duration "${s}" (e.g. 500ms, 30s, 1m, 1h30m)`);
  return Math.round(total);
}

/** The request header line of -tokenfile's token, or ''. */
export function authHeader(cfg: LoaderConfig): string {
  return cfg.token ? `Authorization: Bearer ${cfg.token}\r\n` : '';
}

/** -tokenfile: {"token": "..."} (what `ais auth token --save` writes) or the bare token. */
function readTokenFile(file: string): string {
  if (file === '') return '';
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new FlagError(`-tokenfile: cannot read ${file}: ${(err as Error).message}`);
  }
  if (text.startsWith('{')) {
    try {
      const tok = (JSON.parse(text) as { token?: unknown }).token;
      if (typeof tok === 'string' && tok !== '') return tok;
    } catch {
      // reported below
    }
    throw new FlagError(`-tokenfile: ${file} holds no token (expected {"token": "..."})`);
  }
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(text)) throw new FlagError(`-tokenfile: ${file} does not hold a JWT`);
  return text;
}

function parseBool(name: string, v: string): boolean {
  const l = v.toLowerCase();
  if (l === 'true' || l === '1' || l === 'yes') return true;
  if (l === 'false' || l === '0' || l === 'no') return false;
  throw new FlagError(`-${name}: invalid boolean "${v}" (true or false)`);
}

function parseInt10(name: string, v: string): number {
  if (!/^-?\d+$/.test(v.trim())) throw new FlagError(`-${name}: invalid integer "${v}"`);
  return Number(v);
}

export function usage(): string {
  const lines = ['usage: aisloader -bucket NAME [-endpoint URL | -ip HOST -port P] [flags]', '', 'flags:'];
  for (const [name, f] of Object.entries(FLAGS)) {
    const alias = f.alias ? ` (also -${f.alias.join(', -')})` : '';
    lines.push(`  -${name}${f.kind === 'bool' ? '' : ` ${f.kind}`}${alias}\n      ${f.help}${f.def && f.def !== '0' && f.def !== 'false' ? ` (default ${f.def})` : ''}`);
  }
  lines.push(
    '',
    'examples:',
    '  aisloader -bucket ais://b -duration 30s -numworkers 8 -pctput 100 -minsize 1MiB -maxsize 1MiB -cleanup',
    '  aisloader -bucket b -pctput 100 -maxputs 1000 -minsize 4KiB -maxsize 4KiB     # warm-up, then:',
    '  aisloader -bucket b -pctput 0 -duration 1m -numworkers 32 -json',
  );
  return lines.join('\n');
}

/** Raw flag values by canonical name; `help` is true when -h/-help was given. */
export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv = {}): LoaderConfig | 'help' {
  const raw = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const [name, f] of Object.entries(FLAGS)) {
    byName.set(name, name);
    for (const a of f.alias ?? []) byName.set(a, name);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([a-zA-Z][\w-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new FlagError(`unexpected argument "${arg}" (flags look like -name value or -name=value)`);
    const name = byName.get(m[1].toLowerCase().replace(/-/g, ''));
    if (!name) throw new FlagError(`unknown flag -${m[1]} (see -help)`);
    const spec = FLAGS[name];
    let value = m[2];
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new FlagError(`-${name} needs a value`);
    }
    raw.set(name, value);
  }
  const get = (name: string): string => raw.get(name) ?? FLAGS[name].def;
  if (parseBool('help', get('help'))) return 'help';

  let endpoint = raw.get('endpoint') ?? '';
  if (!endpoint && !raw.has('ip') && !raw.has('port') && env.AIS_ENDPOINT) endpoint = env.AIS_ENDPOINT;
  let host: string;
  let port: number;
  let tls: TlsOptions | undefined;
  if (endpoint) {
    let u: URL;
    try {
      u = new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`);
    } catch {
      throw new FlagError(`-endpoint: invalid URL "${endpoint}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FlagError(`-endpoint: http:// or https:// (got ${u.protocol})`);
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    if (u.protocol === 'https:') tls = { ...(env.AIS_CLIENT_CA ? { ca: readCa(env.AIS_CLIENT_CA) } : {}), skipVerify: env.AIS_SKIP_VERIFY_CRT === 'true' };
  } else {
    host = get('ip');
    port = parseInt10('port', get('port'));
  }
  if (!(port > 0 && port < 65536)) throw new FlagError(`-port: invalid port ${port}`);

  let bucket = get('bucket');
  let provider: LoaderConfig['provider'] = 'ais';
  const pm = /^([a-z0-9]+):\/\/(.*)$/.exec(bucket);
  if (pm) {
    if (pm[1] !== 'ais' && pm[1] !== 's3' && pm[1] !== 'aws') throw new FlagError(`-bucket: provider "${pm[1]}://" is not supported (ais://, s3:// or aws://)`);
    provider = pm[1] === 'ais' ? 'ais' : 'aws';
    bucket = pm[2];
  }
  bucket = bucket.replace(/\/+$/, '');
  if (!bucket) throw new FlagError('-bucket is required (e.g. -bucket ais://bench)');
  if (bucket.includes('/')) throw new FlagError(`-bucket: "${bucket}" is not a bucket name`);

  const s3 = parseBool('s3', get('s3'));

  const cfg: LoaderConfig = {
    endpoint: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    bucket,
    s3,
    apiPrefix: s3 ? '/s3' : '/v1/objects',
    provider,
    // Through /s3 the gateway knows a remote bucket by its name alone (as S3 clients address it).
    providerQuery: !s3 && provider === 'aws' ? '?provider=aws' : '',
    durationMs: parseDuration(get('duration')),
    numWorkers: parseInt10('numworkers', get('numworkers')),
    threads: parseInt10('threads', get('threads')),
    pctPut: parseInt10('pctput', get('pctput')),
    minSize: parseSize(get('minsize')),
    maxSize: parseSize(get('maxsize')),
    totalPutSize: parseSize(get('totalputsize')),
    maxPuts: parseInt10('maxputs', get('maxputs')),
    cleanup: parseBool('cleanup', get('cleanup')),
    readOff: parseSize(get('readoff')),
    readLen: parseSize(get('readlen')),
    statsIntervalSec: parseInt10('statsinterval', get('statsinterval')),
    json: parseBool('json', get('json')),
    seed: parseInt10('seed', get('seed')),
    fileList: get('filelist'),
    subdir: get('subdir').replace(/^\/+|\/+$/g, ''),
    bprops: get('bprops'),
    uniqueGets: parseBool('uniquegets', get('uniquegets')),
    chunked: parseBool('chunked', get('chunked')),
    token: readTokenFile(get('tokenfile')),
    timeoutMs: parseDuration(get('timeout')),
    quiet: parseBool('quiet', get('quiet')),
    etl: get('etl'),
    etlSpec: get('etlspec'),
    ...(tls ? { tls } : {}),
  };
  // A size-bounded run without an explicit -duration runs until the bound.
  if (!raw.has('duration') && (cfg.maxPuts > 0 || cfg.totalPutSize > 0)) cfg.durationMs = 0;
  if (!raw.has('maxsize') && raw.has('minsize')) cfg.maxSize = Math.max(cfg.maxSize, cfg.minSize);
  if (!raw.has('minsize') && raw.has('maxsize')) cfg.minSize = Math.min(cfg.minSize, cfg.maxSize);
  validate(cfg);
  return cfg;
}

function readCa(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new FlagError(`AIS_CLIENT_CA: cannot read ${file}: ${(err as Error).message}`);
  }
}

function validate(c: LoaderConfig): void {
  if (c.numWorkers < 1) throw new FlagError(`-numworkers must be ≥ 1 (got ${c.numWorkers})`);
  if (c.threads < 1) throw new FlagError(`-threads must be ≥ 1 (got ${c.threads})`);
  if (c.threads > c.numWorkers) c.threads = c.numWorkers;
  if (c.pctPut < 0 || c.pctPut > 100) throw new FlagError(`-pctput must be 0..100 (got ${c.pctPut})`);
  if (c.minSize < 0 || c.maxSize < c.minSize) throw new FlagError(`-minsize ${c.minSize} must be ≤ -maxsize ${c.maxSize}`);
  if (c.maxPuts < 0) throw new FlagError('-maxputs must be ≥ 0');
  if (c.statsIntervalSec < 0) throw new FlagError('-statsinterval must be ≥ 0');
  if (c.durationMs === 0 && c.maxPuts === 0 && c.totalPutSize === 0) {
    throw new FlagError('-duration 0 needs -maxputs or -totalputsize to end the run');
  }
  if (c.durationMs === 0 && c.pctPut === 0) throw new FlagError('-duration 0 with -pctput 0 would never end (give a -duration)');
  if (c.seed < 0 || c.seed > 0xffffffff) throw new FlagError('-seed must be 0..4294967295');
  if (c.readLen > 0 && c.pctPut === 100) throw new FlagError('-readlen applies to GETs, but -pctput 100 does none');
  if (c.etl && c.etlSpec) throw new FlagError('give one of -etl and -etlspec');
  if ((c.etl || c.etlSpec) && c.s3) throw new FlagError('-etl / -etlspec: ETL GETs are native API requests (drop -s3)');
  if ((c.etl || c.etlSpec) && (c.readLen > 0 || c.readOff > 0)) throw new FlagError('-etl / -etlspec: whole objects only (no -readoff/-readlen)');
}
