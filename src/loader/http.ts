// A minimal HTTP/1.1 client connection for the load generator: one request at a time on a keep-alive
// socket, request heads written as prepared bytes, bodies written as views of the shared payload (no
// copies), and responses framed straight out of one read buffer per thread (net's `onread`) by the
// parser the gateway's relay uses (util/h1-response.ts), so the body bytes of a GET are counted, never
// allocated.
import net from 'node:net';
import tls from 'node:tls';
import { ResponseParser, type ResponseHead } from '../util/h1-response';
import type { TlsOptions } from './flags';

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
  /** A request is in flight (its response not yet complete). */
  private inFlight = false;
  /** The connection's one parser, reset for each response. */
  private readonly framer = new ResponseParser(false, {
    onHead: (h) => this.onHead(h),
    onBody: (b) => this.bodyPart(b),
    onDone: () => this.complete(),
    // Only the exchange being fed: one that ends inside a read may start the next from done().
    live: () => this.inFlight && this.exchange === this.feeding,
  });
  /** Counts requests; `feeding` is the one whose bytes onBytes is handing to the parser. */
  private exchange = 0;
  private feeding = -1;
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
    /** HTTPS: a TLS socket, read through 'data' events (TLS sockets take no `onread` buffer). */
    private readonly tlsOpts?: TlsOptions,
  ) {}

  get busy(): boolean {
    return this.inFlight;
  }

  /**
   * Sends a request: `head` is the complete request head (ending in CRLFCRLF), `body` the views to
   * send after it. `isHead`: a HEAD request (the response has no body whatever its headers say).
   */
  request(head: Buffer | string, body: readonly Buffer[] | null, isHead = false): void {
    if (this.inFlight) throw new Error('request on a busy connection');
    const s = this.sock ?? this.connect();
    this.framer.reset(isHead);
    this.inFlight = true;
    this.exchange++;
    this.status = 0;
    this.bodyBytes = 0;
    this.errBody = '';
    this.location = '';
    this.errChunks = null;
    this.errLen = 0;
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
    if (!this.inFlight) return;
    this.sockErr = err;
    this.sock?.destroy();
  }

  close(): void {
    this.sock?.destroy();
    this.sock = null;
  }

  private connect(): net.Socket {
    const s: net.Socket = this.tlsOpts
      ? tls.connect({
          host: this.host,
          port: this.port,
          ...(net.isIP(this.host) ? {} : { servername: this.host }),
          ...(this.tlsOpts.ca ? { ca: this.tlsOpts.ca } : {}),
          rejectUnauthorized: !this.tlsOpts.skipVerify,
        })
      : net.connect({
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
    if (this.tlsOpts) {
      s.setNoDelay(true);
      s.on('data', (b: Buffer) => {
        if (this.sock === s) this.onBytes(b, b.length);
      });
    }
    s.on('error', (err) => {
      if (this.sock === s && !this.sockErr) this.sockErr = err;
    });
    s.on('end', () => {
      if (this.sock === s && this.inFlight && this.framer.untilClose) this.complete();
    });
    s.on('close', () => {
      if (this.sock !== s) return;
      this.sock = null;
      if (!this.inFlight) return;
      if (this.framer.untilClose) return this.complete();
      this.inFlight = false;
      this.done(this, this.sockErr ?? new Error('connection closed by the server mid-response'));
    });
    this.sock = s;
    return s;
  }

  private onBytes(buf: Buffer, n: number): void {
    // Bytes nobody asked for: the stream is out of sync.
    if (!this.inFlight) return this.protocolError('unexpected bytes after a complete response');
    this.feeding = this.exchange;
    let used: number;
    try {
      used = this.framer.feed(buf.subarray(0, n));
    } catch (err) {
      return this.protocolError((err as Error).message);
    }
    // The response ended before the bytes did: what follows is no answer to anything (and fails the
    // request done() may have sent on this connection since).
    if (used < n) this.protocolError('unexpected bytes after a complete response');
  }

  private onHead(h: ResponseHead): void {
    this.status = h.status;
    if (h.status >= 300 && h.status < 400) this.location = (h.header('location') ?? '').trim();
    if (h.status >= 300) this.errChunks = [];
  }

  private bodyPart(b: Buffer): void {
    this.bodyBytes += b.length;
    if (this.errChunks && this.errLen < ERR_BODY) {
      const take = Math.min(b.length, ERR_BODY - this.errLen);
      this.errChunks.push(Buffer.from(b.subarray(0, take)));
      this.errLen += take;
    }
  }

  private complete(): void {
    this.inFlight = false;
    if (this.errChunks) {
      this.errBody = Buffer.concat(this.errChunks).toString('utf8');
      this.errChunks = null;
    }
    const s = this.sock;
    // A response that came before the whole request body went out (e.g. an early error) leaves the
    // stream unusable, as does `Connection: close`.
    if (s && (!this.framer.keepAlive || s.writableLength > 0)) {
      this.sock = null;
      s.destroy();
    }
    this.done(this, null);
  }

  private protocolError(msg: string): void {
    const s = this.sock;
    this.sock = null;
    s?.destroy();
    if (!this.inFlight) return;
    this.inFlight = false;
    this.done(this, new Error(`protocol error: ${msg}`));
  }
}
