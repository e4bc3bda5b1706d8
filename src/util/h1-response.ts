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
    private bodiless: boolean,
    private readonly sink: ResponseSink,
  ) {}

  /** Ready for the next response on the connection (a parser per connection allocates nothing per exchange). */
  reset(bodiless: boolean): void {
    this.bodiless = bodiless;
    this.keepAlive = true;
    this.st = St.Head;
    this.head = undefined;
    this.remaining = 0;
    this.line = '';
  }

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
    const head = new Head(text);
    const status = head.status;
    if (status >= 100 && status < 200) return; // interim: the real head follows (101 is never asked for)
    if (head.http10 || head.close) this.keepAlive = false;
    if (this.bodiless || status === 204 || status === 304) this.st = St.Done;
    else if (head.transferEncoding !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(head.transferEncoding)) throw new Error(`upstream transfer-encoding ${head.transferEncoding} not supported`);
      this.st = St.ChunkSize;
    } else if (head.contentLength !== undefined) {
      const cl = head.contentLength;
      if (!/^\d{1,15}$/.test(cl)) throw new Error(`bad content-length from upstream: ${cl}`);
      this.remaining = Number(cl);
      this.st = this.remaining === 0 ? St.Done : St.Fixed;
    } else {
      this.st = St.UntilClose;
      this.keepAlive = false;
    }
    this.sink.onHead(head);
    if (this.st === St.Done && this.sink.live()) this.sink.onDone();
  }
}

/**
 * A response head, checked line by line when it arrives; only the fields that frame the body are taken
 * out then. The header list and the by-name lookup are built on first use: a load generator reading
 * 30,000 small responses a second asks for neither (the whole head as strings, a Map and a regex per
 * line cost ~2.5 µs per response).
 */
class Head implements ResponseHead {
  readonly status: number;
  readonly statusText: string;
  readonly http10: boolean;
  /** `Connection: close`. */
  readonly close: boolean = false;
  readonly transferEncoding: string | undefined;
  readonly contentLength: string | undefined;
  private raw: string[] | undefined;
  private byName: Map<string, string> | undefined;

  constructor(private readonly text: string) {
    const eol0 = lineEnd(text, 0);
    // "HTTP/1.x NNN[ reason]", checked by character (a regex here was a tenth of the parse)
    const minor = digitAt(text, 7);
    const [a, b, c] = [digitAt(text, 9), digitAt(text, 10), digitAt(text, 11)];
    const ok =
      text.startsWith('HTTP/1.') && (minor === 0 || minor === 1) && text.charCodeAt(8) === 32 && a > 0 && b >= 0 && c >= 0 &&
      (eol0 === 12 || (eol0 > 12 && text.charCodeAt(12) === 32));
    if (!ok) throw new Error(`bad status line from upstream: ${JSON.stringify(text.slice(0, Math.min(eol0, 60)))}`);
    this.http10 = minor === 0;
    this.status = a * 100 + b * 10 + c;
    this.statusText = eol0 > 13 ? text.slice(13, eol0) : '';
    for (let p = eol0 + 2; p < text.length; ) {
      const eol = lineEnd(text, p);
      const c = text.indexOf(':', p);
      if (c <= p || c > eol || isSpace(text.charCodeAt(p)) || isSpace(text.charCodeAt(c - 1))) {
        throw new Error(`bad header line from upstream: ${JSON.stringify(text.slice(p, Math.min(eol, p + 60)))}`);
      }
      const len = c - p;
      if (len === 14 || len === 17 || len === 10) {
        const name = text.slice(p, c).toLowerCase();
        if (name === 'content-length') {
          const v = text.slice(c + 1, eol).trim();
          // Repeated with another value: the framing is ambiguous (RFC 9112 §6.3).
          this.contentLength = this.contentLength === undefined || this.contentLength === v ? v : `${this.contentLength}, ${v}`;
        } else if (name === 'transfer-encoding') {
          const v = text.slice(c + 1, eol).trim();
          this.transferEncoding = this.transferEncoding === undefined ? v : `${this.transferEncoding}, ${v}`;
        } else if (name === 'connection') {
          if (text.slice(c + 1, eol).toLowerCase().split(',').some((t) => t.trim() === 'close')) this.close = true;
        }
      }
      p = eol + 2;
    }
  }

  get rawHeaders(): string[] {
    if (!this.raw) {
      const raw: string[] = [];
      for (let p = lineEnd(this.text, 0) + 2; p < this.text.length; ) {
        const eol = lineEnd(this.text, p);
        const c = this.text.indexOf(':', p);
        raw.push(this.text.slice(p, c), this.text.slice(c + 1, eol).trim());
        p = eol + 2;
      }
      this.raw = raw;
    }
    return this.raw;
  }

  header(name: string): string | undefined {
    if (!this.byName) {
      const byName = new Map<string, string>();
      const raw = this.rawHeaders;
      for (let k = 0; k < raw.length; k += 2) {
        const lc = raw[k]!.toLowerCase();
        const prev = byName.get(lc);
        byName.set(lc, prev === undefined ? raw[k + 1]! : `${prev}, ${raw[k + 1]!}`);
      }
      this.byName = byName;
    }
    return this.byName.get(name);
  }
}

/** End of the line starting at `p` (its CR), or the end of the text. */
function lineEnd(text: string, p: number): number {
  const e = text.indexOf('\r\n', p);
  return e < 0 ? text.length : e;
}

/** The decimal digit at `k`, or -1. */
function digitAt(text: string, k: number): number {
  const d = text.charCodeAt(k) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10 || c === 11 || c === 12;
}
