// HTTP/1.1 response framing (RFC 9112) for the relay client (upstream.ts), fed straight from a
// connection's read buffer: the head is parsed into status and headers; body bytes are handed on as views
// of the buffer, never copied. A response to HEAD and a 1xx/204/304 have no body; otherwise chunked
// (Transfer-Encoding ending in chunked), then Content-Length, else the body runs to the close. 1xx
// interim heads are skipped.

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Header names and values as received: name, value, name, value, … */
  rawHeaders: string[];
  /** The value of a header by lower-case name (several joined with ", "). */
  header(name: string): string | undefined;
}

export interface ResponseSink {
  onHead(head: ResponseHead): void;
  /** Body bytes: a view of the buffer being fed, valid only during the call. */
  onBody(chunk: Buffer): void;
  /** The whole response has been read. */
  onDone(): void;
  /** False once the exchange is over (failed, abandoned): feeding stops there. */
  live(): boolean;
}

/** A response head larger than this is refused. */
const MAX_HEAD = 64 * 1024;

const enum St {
  Head,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

export class ResponseParser {
  /** After the head: the connection may serve another exchange (HTTP/1.1, no `Connection: close`, framed body). */
  keepAlive = true;
  private st = St.Head;
  /** A head split over reads, so far. */
  private head: Buffer | undefined;
  private remaining = 0;
  /** Partial chunk-size or trailer line (or the CR of a chunk's CRLF). */
  private line = '';

  constructor(
    /** The request was HEAD. */
    private readonly bodiless: boolean,
    private readonly sink: ResponseSink,
  ) {}

  get done(): boolean {
    return this.st === St.Done;
  }

  /** The body runs to the close: the connection's end completes it. */
  get untilClose(): boolean {
    return this.st === St.UntilClose;
  }

  /** The next body bytes of a fixed-length body or chunk, up to what `data` holds from `i`. */
  private take(data: Buffer, i: number): Buffer {
    const n = Math.min(this.remaining, data.length - i);
    this.remaining -= n;
    return data.subarray(i, i + n);
  }

  /** Consumes `data` up to the end of the response; returns how far it got. Throws on a malformed response. */
  feed(data: Buffer): number {
    let i = 0;
    while (i < data.length && this.sink.live()) {
      switch (this.st) {
        case St.Head: {
          let text: string;
          if (!this.head) {
            const end = data.indexOf('\r\n\r\n', i, 'latin1');
            if (end < 0) {
              this.head = Buffer.from(data.subarray(i)); // a copy: `data` is the connection's read buffer
              if (this.head.length > MAX_HEAD) throw new Error(`upstream response head over ${MAX_HEAD} bytes`);
              return data.length;
            }
            if (end - i > MAX_HEAD) throw new Error(`upstream response head over ${MAX_HEAD} bytes`);
            text = data.toString('latin1', i, end);
            i = end + 4;
          } else {
            // The rest of a head split over reads; the terminator may straddle them: search 3 bytes back.
            const at = this.head.length;
            this.head = Buffer.concat([this.head, data.subarray(i)]);
            const end = this.head.indexOf('\r\n\r\n', Math.max(0, at - 3), 'latin1');
            if (end < 0 || end > MAX_HEAD) {
              if (end > MAX_HEAD || this.head.length > MAX_HEAD) throw new Error(`upstream response head over ${MAX_HEAD} bytes`);
              return data.length;
            }
            text = this.head.toString('latin1', 0, end);
            i += end + 4 - at;
            this.head = undefined;
          }
          this.onHeadText(text);
          break;
        }
        case St.Fixed: {
          const piece = this.take(data, i);
          i += piece.length;
          if (this.remaining === 0) this.st = St.Done;
          this.sink.onBody(piece);
          if (this.st === St.Done) this.sink.onDone();
          break;
        }
        case St.ChunkSize:
        case St.Trailers: {
          const nl = data.indexOf(10, i);
          const stop = nl < 0 ? data.length : nl + 1;
          this.line += data.toString('latin1', i, stop);
          i = stop;
          if (this.line.length > 8192) throw new Error('upstream chunk-size or trailer line too long');
          if (nl < 0) break;
          const line = this.line.replace(/\r?\n$/, '');
          this.line = '';
          if (this.st === St.Trailers) {
            if (line === '') {
              this.st = St.Done;
              this.sink.onDone();
            }
            break;
          }
          const m = /^([0-9a-fA-F]{1,15})[ \t]*(;.*)?$/.exec(line);
          if (!m) throw new Error(`bad chunk size line from upstream: ${JSON.stringify(line.slice(0, 40))}`);
          this.remaining = parseInt(m[1]!, 16);
          this.st = this.remaining === 0 ? St.Trailers : St.ChunkData;
          break;
        }
        case St.ChunkData: {
          const piece = this.take(data, i);
          i += piece.length;
          if (this.remaining === 0) this.st = St.ChunkDataEnd;
          this.sink.onBody(piece);
          break;
        }
        case St.ChunkDataEnd: {
          // CRLF after the chunk's data (a bare LF tolerated); `line` holds a CR read at the end of a read.
          const c = data[i++]!;
          if (c === 13 && this.line === '') this.line = '\r';
          else if (c === 10) {
            this.line = '';
            this.st = St.ChunkSize;
          } else throw new Error('missing CRLF after a chunk from upstream');
          break;
        }
        case St.UntilClose:
          this.sink.onBody(data.subarray(i));
          i = data.length;
          break;
        case St.Done:
          throw new Error('upstream sent bytes after the end of its response');
      }
    }
    return i;
  }

  private onHeadText(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
    if (!m) throw new Error(`bad status line from upstream: ${JSON.stringify(lines[0]!.slice(0, 60))}`);
    const status = Number(m[2]);
    const rawHeaders: string[] = [];
    const byName = new Map<string, string>();
    for (let k = 1; k < lines.length; k++) {
      const l = lines[k]!;
      const c = l.indexOf(':');
      if (c <= 0 || /[\s]/.test(l[0]!) || /\s/.test(l[c - 1]!)) throw new Error(`bad header line from upstream: ${JSON.stringify(l.slice(0, 60))}`);
      const name = l.slice(0, c);
      const value = l.slice(c + 1).trim();
      rawHeaders.push(name, value);
      const lc = name.toLowerCase();
      const prev = byName.get(lc);
      byName.set(lc, prev === undefined ? value : `${prev}, ${value}`);
    }
    if (status >= 100 && status < 200) return; // interim: the real head follows (101 is never asked for)
    if (m[1] === '0' || (byName.get('connection') ?? '').toLowerCase().split(',').some((t) => t.trim() === 'close')) this.keepAlive = false;
    const te = byName.get('transfer-encoding');
    const cl = byName.get('content-length');
    if (this.bodiless || status === 204 || status === 304) this.st = St.Done;
    else if (te !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(te)) throw new Error(`upstream transfer-encoding ${te} not supported`);
      this.st = St.ChunkSize;
    } else if (cl !== undefined) {
      if (!/^\d{1,15}$/.test(cl)) throw new Error(`bad content-length from upstream: ${cl}`);
      this.remaining = Number(cl);
      this.st = this.remaining === 0 ? St.Done : St.Fixed;
    } else {
      this.st = St.UntilClose;
      this.keepAlive = false;
    }
    this.sink.onHead({ status, statusText: m[3] ?? '', rawHeaders, header: (n) => byName.get(n) });
    if (this.st === St.Done && this.sink.live()) this.sink.onDone();
  }

}
