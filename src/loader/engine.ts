// The load loop of one thread: W workers, each a keep-alive connection that issues one request after
// another (closed loop, like wrk and AIStore's aisloader). Threads coordinate through a small shared
// control block: the stop flag, the next object number to write and the bytes written so far, so that
// -maxputs and -totalputsize hold across threads and object numbers never repeat.
import { performance } from 'node:perf_hooks';
import { Conn } from './http';
import { LoadStats, OP_GET, OP_PUT } from './stats';
import { bodyViews, objectName, objectOffset, objectSize, Rng, type Payload } from './payload';
import { authHeader, type LoaderConfig } from './flags';

/** Int32 slots of the control block. */
const STOP = 0;
const NEXT_OBJ = 1;
const CONTROL_INTS = 4;

export interface Control {
  ints: Int32Array;
  /** [0]: bytes claimed by PUTs (for -totalputsize). */
  bytes: BigInt64Array;
}

export function newControl(): Control {
  return {
    ints: new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4)),
    bytes: new BigInt64Array(new SharedArrayBuffer(8)),
  };
}

export function controlOf(ints: SharedArrayBuffer, bytes: SharedArrayBuffer): Control {
  return { ints: new Int32Array(ints), bytes: new BigInt64Array(bytes) };
}

export function requestStop(c: Control): void {
  Atomics.store(c.ints, STOP, 1);
}

export function stopped(c: Control): boolean {
  return Atomics.load(c.ints, STOP) !== 0;
}

/** Percent-encodes an object name for a path, keeping '/' (S3 path-style). */
export function encodeKey(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}

export interface EngineResult {
  /** Names of the objects this thread wrote successfully. */
  written: string[];
  /** Error message → count. */
  errors: Record<string, number>;
}

interface Worker {
  conn: Conn;
  op: number;
  start: number;
  name: string;
  size: number;
  /** The request in flight, for a redirect to re-send: method and body (views of the payload). */
  body: Buffer[] | null;
  redirects: number;
  /** Keep-alive connections to the nodes redirects sent this worker to, by host:port. */
  redirConns: Map<string, Conn>;
}

/** A gateway in redirect mode (proxy.s3_redirect) answers 307; more than a few hops is a loop. */
const MAX_REDIRECTS = 3;

export class Engine {
  private readonly rng: Rng;
  /** One read buffer for all connections of the thread (64 KiB: large enough for few reads per MiB, small enough to stay in cache). */
  private readonly readBuf = Buffer.allocUnsafe(64 * 1024);
  private readonly workers: Worker[] = [];
  private readonly written: string[] = [];
  private readonly errors = new Map<string, number>();
  /** GET candidates: listed at start, plus what this thread writes in a mixed run. */
  private readonly pool: string[];
  private readonly heads: (Buffer | undefined)[] = [];
  private cursor: number;
  private readonly hostHeader: string;
  /** "Authorization: Bearer ...\r\n" with -tokenfile, else ''. */
  private readonly authHeader: string;
  private readonly rangeHeader: string;
  /** The GET request's query: the provider, the ETL (-etl). */
  private readonly getQuery: string;
  private readonly pathPrefix: string;
  private running = 0;
  private finished!: () => void;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly cfg: LoaderConfig,
    private readonly payload: Payload,
    private readonly stats: LoadStats,
    private readonly control: Control,
    getNames: readonly string[],
    private readonly numWorkers: number,
    threadIdx: number,
  ) {
    this.rng = new Rng((payload.seed ^ Math.imul(threadIdx + 1, 0x9e3779b1)) >>> 0);
    this.pool = getNames.slice();
    this.cursor = this.pool.length ? this.rng.below(this.pool.length) : 0;
    this.authHeader = authHeader(cfg);
    this.hostHeader = `${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`;
    this.pathPrefix = `${cfg.apiPrefix}/${encodeURIComponent(cfg.bucket)}/`;
    this.rangeHeader = rangeHeaderOf(cfg.readOff, cfg.readLen);
    const etl = cfg.etlName ? `etl_name=${encodeURIComponent(cfg.etlName)}` : '';
    this.getQuery = cfg.providerQuery && etl ? `${cfg.providerQuery}&${etl}` : cfg.providerQuery || (etl ? `?${etl}` : '');
  }

  run(): Promise<EngineResult> {
    return new Promise((resolve) => {
      this.finished = () => {
        if (this.sweeper) clearInterval(this.sweeper);
        for (const w of this.workers) {
          w.conn.close();
          for (const c of w.redirConns.values()) c.close();
        }
        resolve({ written: this.written, errors: Object.fromEntries(this.errors) });
      };
      if (this.cfg.timeoutMs > 0) this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.cfg.timeoutMs));
      for (let i = 0; i < this.numWorkers; i++) {
        const w: Worker = { conn: undefined as unknown as Conn, op: OP_GET, start: 0, name: '', size: 0, body: null, redirects: 0, redirConns: new Map() };
        w.conn = new Conn(this.cfg.host, this.cfg.port, this.readBuf, (c, err) => this.onDone(w, c, err), this.cfg.tls);
        this.workers.push(w);
        this.running++;
      }
      if (this.running === 0) return this.finished();
      for (const w of this.workers) this.next(w);
    });
  }

  private next(w: Worker): void {
    const c = this.control;
    if (stopped(c)) return this.retire();
    const pct = this.cfg.pctPut;
    const put = pct === 100 || (pct > 0 && (this.pool.length === 0 || this.rng.below(100) < pct));
    w.start = performance.now();
    w.conn.startedAt = w.start;
    w.redirects = 0;
    w.body = null;
    if (put) {
      const i = Atomics.add(c.ints, NEXT_OBJ, 1);
      if (this.cfg.maxPuts > 0 && i >= this.cfg.maxPuts) {
        requestStop(c);
        return this.retire();
      }
      const { seed } = this.payload;
      const size = objectSize(seed, i, this.cfg.minSize, this.cfg.maxSize);
      if (this.cfg.totalPutSize > 0) {
        const before = Atomics.add(c.bytes, 0, BigInt(size));
        if (before >= BigInt(this.cfg.totalPutSize)) {
          requestStop(c);
          return this.retire();
        }
      }
      const ring = this.payload.buf;
      w.op = OP_PUT;
      w.name = objectName(this.cfg.subdir, seed, i);
      w.size = size;
      const views = bodyViews(ring, objectOffset(seed, i, size, ring.length), size);
      w.body = this.cfg.chunked ? chunkedBody(views) : views;
      if (this.cfg.chunked) {
        const head = `PUT ${this.pathPrefix}${encodeKey(w.name)}${this.cfg.providerQuery} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n${this.authHeader}Transfer-Encoding: chunked\r\n\r\n`;
        w.conn.request(head, w.body);
      } else {
        const head = `PUT ${this.pathPrefix}${encodeKey(w.name)}${this.cfg.providerQuery} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n${this.authHeader}Content-Length: ${size}\r\n\r\n`;
        w.conn.request(head, views);
      }
      return;
    }
    if (this.pool.length === 0) {
      this.count(OP_GET, 'GET: no objects to read (list is empty)');
      requestStop(c);
      return this.retire();
    }
    const k = this.cfg.uniqueGets ? this.cursor++ % this.pool.length : this.rng.below(this.pool.length);
    w.op = OP_GET;
    w.name = this.pool[k];
    let head = this.heads[k];
    if (!head) {
      head = Buffer.from(`GET ${this.pathPrefix}${encodeKey(w.name)}${this.getQuery} HTTP/1.1\r\nHost: ${this.hostHeader}\r\n${this.authHeader}${this.rangeHeader}\r\n`, 'latin1');
      this.heads[k] = head;
    }
    w.conn.request(head, null);
  }

  private onDone(w: Worker, conn: Conn, err: Error | null): void {
    if (!err && conn.location !== '' && (conn.status === 307 || conn.status === 308) && w.redirects < MAX_REDIRECTS) return this.follow(w, conn.location);
    const ms = performance.now() - w.start;
    if (err) {
      this.count(w.op, `${w.op === OP_PUT ? 'PUT' : 'GET'}: ${err.message}`);
    } else if (w.op === OP_PUT) {
      if (conn.status >= 200 && conn.status < 300) {
        this.stats.ok(OP_PUT, w.size, ms);
        this.written.push(w.name);
        if (this.cfg.pctPut < 100) this.pool.push(w.name);
      } else this.count(OP_PUT, `PUT: ${describeStatus(conn.status, conn.errBody)}`);
    } else if (conn.status === 200 || conn.status === 206) {
      this.stats.ok(OP_GET, conn.bodyBytes, ms);
    } else {
      this.count(OP_GET, `GET: ${describeStatus(conn.status, conn.errBody)}`);
    }
    this.next(w);
  }

  /**
   * Sends the request in flight again to `location` (same method, same body views: a 307 keeps both),
   * on this worker's keep-alive connection to that node. Latency counts from the first request.
   */
  private follow(w: Worker, location: string): void {
    let u: URL;
    try {
      u = new URL(location, `http://${this.hostHeader}`);
    } catch {
      this.count(w.op, `${w.op === OP_PUT ? 'PUT' : 'GET'}: invalid redirect Location ${location}`);
      return this.next(w);
    }
    w.redirects++;
    const key = u.host;
    let c = w.redirConns.get(key);
    if (!c) {
      const secure = u.protocol === 'https:';
      c = new Conn(u.hostname.replace(/^\[|\]$/g, ''), Number(u.port || (secure ? 443 : 80)), this.readBuf, (cc, err) => this.onDone(w, cc, err), secure ? (this.cfg.tls ?? { skipVerify: false }) : undefined);
      w.redirConns.set(key, c);
    }
    c.startedAt = w.start;
    const put = w.op === OP_PUT;
    const framing = !put ? this.rangeHeader : this.cfg.chunked ? 'Transfer-Encoding: chunked\r\n' : `Content-Length: ${w.size}\r\n`;
    c.request(`${put ? 'PUT' : 'GET'} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n${this.authHeader}${framing}\r\n`, put ? w.body : null);
  }

  private count(op: number, msg: string): void {
    this.stats.error(op);
    this.errors.set(msg, (this.errors.get(msg) ?? 0) + 1);
  }

  private retire(): void {
    if (--this.running === 0) this.finished();
  }

  private sweep(): void {
    const now = performance.now();
    for (const w of this.workers) {
      for (const c of [w.conn, ...w.redirConns.values()]) {
        if (c.busy && now - c.startedAt > this.cfg.timeoutMs) c.abort(new Error(`timed out after ${this.cfg.timeoutMs} ms`));
      }
    }
  }
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** The views framed as HTTP/1.1 chunks (one chunk per view; the payload is not copied). */
export function chunkedBody(views: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const v of views) {
    if (v.length === 0) continue;
    out.push(Buffer.from(`${v.length.toString(16)}\r\n`, 'latin1'), v, CRLF);
  }
  out.push(LAST_CHUNK);
  return out;
}

export function rangeHeaderOf(off: number, len: number): string {
  if (len > 0) return `Range: bytes=${off}-${off + len - 1}\r\n`;
  if (off > 0) return `Range: bytes=${off}-\r\n`;
  return '';
}

/** "404 NoSuchKey: The specified key does not exist." out of an S3 error body, or the status alone. */
export function describeStatus(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const msg = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  if (code) return `${status} ${code}${msg ? `: ${msg}` : ''}`;
  const json = /"message"\s*:\s*"([^"]*)"/.exec(body)?.[1];
  if (json) return `${status} ${json}`;
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
  return `${status}${title ? ` ${title}` : ''}`;
}
