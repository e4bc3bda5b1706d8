// A minimal HTTP/1.1 client connection for the load generator: one request at a time on a keep-alive
// socket, request heads written as prepared bytes, bodies written as views of the shared payload (no
// copies), and responses parsed straight out of one read buffer per thread (net's `onread`), so the
// body bytes of a GET are counted, never allocated. Status, Content-Length, chunked bodies and
// `Connection: close` are understood; that is all a loader needs.
import net from 'node:net';

const enum Phase {
  Idle,
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  UntilClose,
}

const MAX_HEAD = 64 * 1024;
/** Error bodies are kept up to this many bytes (for the error report). */
const ERR_BODY = 1024;

export type DoneFn = (conn: Conn, err: Error | null) => void;

export class Conn {
  /** Status code of the last response. */
  status = 0;
  /** Body bytes received in the last response. */
  bodyBytes = 0;
  /** Start of a non-2xx response body (up to 1 KiB), for error messages. */
  errBody = '';
  /** When the request in flight started (performance.now()), for timeouts. */
  startedAt = 0;
  /** Location of the last 3xx response ('' otherwise): the loader follows AIStore's 307 redirects. */
  location = '';

  private sock: net.Socket | null = null;
  private phase = Phase.Idle;
  private readonly head = Buffer.allocUnsafe(MAX_HEAD);
  private headLen = 0;
  private match = 0;
  private remaining = 0;
  private chunkLine = 0;
  private chunkDigits = 0;
  private chunkExt = false;
  private chunkSizeInvalid = false;
  private trailerLineLen = 0;
  private keepAlive = true;
  private headRequest = false;
  private errChunks: Buffer[] | null = null;
  private errLen = 0;
  /** The socket for the request in flight failed: its error, delivered on close. */
  private sockErr: Error | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    /** Shared by all connections of a thread: parsing is synchronous inside the read callback. */
    private readonly readBuf: Buffer,
    private readonly done: DoneFn,
  ) {}

  get busy(): boolean {
    return this.phase !== Phase.Idle;
  }

  /**
   * Sends a request: `head` is the complete request head (ending in CRLFCRLF), `body` the views to
   * send after it. `isHead`: a HEAD request (the response has no body whatever its headers say).
   */
  request(head: Buffer | string, body: readonly Buffer[] | null, isHead = false): void {
    if (this.phase !== Phase.Idle) throw new Error('request on a busy connection');
    const s = this.sock ?? this.connect();
    this.phase = Phase.Head;
    this.headLen = 0;
    this.match = 0;
    this.status = 0;
    this.bodyBytes = 0;
    this.errBody = '';
    this.location = '';
    this.errChunks = null;
    this.errLen = 0;
    this.keepAlive = true;
    this.headRequest = isHead;
    this.sockErr = null;
    if (body === null || body.length === 0) {
      if (typeof head === 'string') s.write(head, 'latin1');
      else s.write(head);
      return;
    }
    s.cork();
    if (typeof head === 'string') s.write(head, 'latin1');
    else s.write(head);
    for (const v of body) s.write(v);
    s.uncork();
  }

  /** Ends the request in flight with an error (e.g. a timeout) and drops the connection. */
  abort(err: Error): void {
    if (this.phase === Phase.Idle) return;
    this.sockErr = err;
    this.sock?.destroy();
  }

  close(): void {
    this.sock?.destroy();
    this.sock = null;
  }

  private connect(): net.Socket {
    const s = net.connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: {
        buffer: this.readBuf,
        callback: (n: number, buf: Uint8Array): boolean => {
          if (this.sock === s) this.onBytes(buf as Buffer, n);
          return true;
        },
      },
    });
    s.on('error', (err) => {
      if (this.sock === s && !this.sockErr) this.sockErr = err;
    });
    s.on('end', () => {
      if (this.sock === s && this.phase === Phase.UntilClose) this.complete();
    });
    s.on('close', () => {
      if (this.sock !== s) return;
      this.sock = null;
      if (this.phase === Phase.Idle) return;
      if (this.phase === Phase.UntilClose) return this.complete();
      this.phase = Phase.Idle;
      this.done(this, this.sockErr ?? new Error('connection closed by the server mid-response'));
    });
    this.sock = s;
    return s;
  }

  private onBytes(buf: Buffer, n: number): void {
    let i = 0;
    while (i < n) {
      switch (this.phase) {
        case Phase.Idle:
          // Bytes nobody asked for: the stream is out of sync.
          this.protocolError('unexpected bytes after a complete response');
          return;
        case Phase.Head: {
          const start = i;
          let m = this.match;
          while (i < n && m < 4) {
            const c = buf[i++];
            if (c === 13) m = m === 0 || m === 2 ? m + 1 : 1;
            else if (c === 10) m = m === 1 || m === 3 ? m + 1 : 0;
            else m = 0;
          }
          this.match = m;
          const len = i - start;
          if (this.headLen + len > MAX_HEAD) return this.protocolError('response head larger than 64 KiB');
          buf.copy(this.head, this.headLen, start, i);
          this.headLen += len;
          if (m === 4 && !this.parseHead()) return;
          break;
        }
        case Phase.Body: {
          const take = Math.min(this.remaining, n - i);
          this.bodyPart(buf, i, take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.complete();
          break;
        }
        case Phase.UntilClose: {
          this.bodyPart(buf, i, n - i);
          i = n;
          break;
        }
        case Phase.ChunkSize: {
          const c = buf[i++];
          if (c === 10) {
            if (this.chunkSizeInvalid || this.chunkDigits === 0) return this.protocolError('invalid chunk size line');
            this.remaining = this.chunkLine;
            this.phase = this.remaining === 0 ? Phase.Trailer : Phase.ChunkData;
            this.trailerLineLen = 0;
          } else if (c !== 13 && !this.chunkExt) {
            const d = hexDigit(c);
            if (d >= 0) {
              this.chunkLine = this.chunkLine * 16 + d;
              this.chunkDigits++;
            } else if (c === 59 || c === 32 || c === 9) this.chunkExt = true; // ";ext=value" is ignored
            else this.chunkSizeInvalid = true;
          }
          break;
        }
        case Phase.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          this.bodyPart(buf, i, take);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.phase = Phase.ChunkDataEnd;
          break;
        }
        case Phase.ChunkDataEnd: {
          if (buf[i++] === 10) this.startChunk();
          break;
        }
        case Phase.Trailer: {
          const c = buf[i++];
          if (c === 10) {
            if (this.trailerLineLen === 0) {
              this.complete();
              break;
            }
            this.trailerLineLen = 0;
          } else if (c !== 13) this.trailerLineLen++;
          break;
        }
      }
    }
  }

  /** Parses the complete head in `this.head`; sets up the body phase. False when the stream broke. */
  private parseHead(): boolean {
    const h = this.head;
    const len = this.headLen;
    // "HTTP/1.1 200 OK"
    if (len < 12 || h[0] !== 72 || h[4] !== 47) {
      this.protocolError('not an HTTP response');
      return false;
    }
    const status = (h[9] - 48) * 100 + (h[10] - 48) * 10 + (h[11] - 48);
    if (!(status >= 100 && status < 600)) {
      this.protocolError('invalid status line');
      return false;
    }
    if (status >= 100 && status < 200) {
      // 1xx (e.g. 100 Continue): the real response follows.
      this.headLen = 0;
      this.match = 0;
      return true;
    }
    this.status = status;
    let contentLength = -1;
    let chunked = false;
    if (h[7] === 48) this.keepAlive = false; // HTTP/1.0
    let p = indexOfLf(h, 0, len) + 1;
    while (p < len) {
      const eol = indexOfLf(h, p, len);
      const lineEnd = eol < 0 ? len : eol;
      const colon = indexOfByte(h, 58, p, lineEnd);
      if (colon > p) {
        const nameLen = colon - p;
        if (nameLen === 14 && eqLower(h, p, 'content-length')) contentLength = parseDec(h, colon + 1, lineEnd);
        else if (nameLen === 17 && eqLower(h, p, 'transfer-encoding')) chunked = hasToken(h, colon + 1, lineEnd, 'chunked');
        else if (nameLen === 8 && status >= 300 && status < 400 && eqLower(h, p, 'location')) this.location = h.toString('latin1', colon + 1, lineEnd).trim();
        else if (nameLen === 10 && eqLower(h, p, 'connection')) {
          if (hasToken(h, colon + 1, lineEnd, 'close')) this.keepAlive = false;
          else if (hasToken(h, colon + 1, lineEnd, 'keep-alive')) this.keepAlive = true;
        }
      }
      p = lineEnd + 1;
    }
    if (status >= 300) this.errChunks = [];
    if (this.headRequest || status === 204 || status === 304) {
      this.complete();
      return true;
    }
    if (chunked) this.startChunk(); else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.phase = Phase.Body;
      if (contentLength === 0) this.complete();
    } else {
      this.keepAlive = false;
      this.phase = Phase.UntilClose;
    }
    return true;
  }

  private startChunk(): void {
    this.phase = Phase.ChunkSize;
    this.chunkLine = 0;
    this.chunkDigits = 0;
    this.chunkExt = false;
    this.chunkSizeInvalid = false;
  }

  private bodyPart(buf: Buffer, off: number, len: number): void {
    this.bodyBytes += len;
    if (this.errChunks && this.errLen < ERR_BODY) {
      const take = Math.min(len, ERR_BODY - this.errLen);
      this.errChunks.push(Buffer.from(buf.subarray(off, off + take)));
      this.errLen += take;
    }
  }

  private complete(): void {
    this.phase = Phase.Idle;
    if (this.errChunks) {
      this.errBody = Buffer.concat(this.errChunks).toString('utf8');
      this.errChunks = null;
    }
    const s = this.sock;
    // A response that came before the whole request body went out (e.g. an early error) leaves the
    // stream unusable, as does `Connection: close`.
    if (s && (!this.keepAlive || s.writableLength > 0)) {
      this.sock = null;
      s.destroy();
    }
    this.done(this, null);
  }

  private protocolError(msg: string): void {
    const s = this.sock;
    this.sock = null;
    s?.destroy();
    if (this.phase === Phase.Idle) return;
    this.phase = Phase.Idle;
    this.done(this, new Error(`protocol error: ${msg}`));
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function indexOfLf(b: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] === 10) return i;
  return -1;
}

function indexOfByte(b: Buffer, c: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] === c) return i;
  return -1;
}

/** Header name at p equals `name` (lowercase letters and '-'), ignoring case. */
function eqLower(b: Buffer, p: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if ((b[p + i] | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

function parseDec(b: Buffer, from: number, to: number): number {
  let v = -1;
  for (let i = from; i < to; i++) {
    const c = b[i];
    if (c >= 48 && c <= 57) v = (v < 0 ? 0 : v * 10) + (c - 48);
    else if (v >= 0) break;
  }
  return v;
}

/** Case-insensitive substring test on header bytes (token is lowercase). */
function hasToken(b: Buffer, from: number, to: number, token: string): boolean {
  const last = to - token.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < token.length; j++) if ((b[i + j] | 0x20) !== token.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}
