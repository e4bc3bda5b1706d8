// The HTTP/1.1 client a node streams requests to another node with (the gateway's forward mode, an HTTP
// thread relaying to its main thread, get-from-neighbour), and `ais get` downloads a file with. Written
// for relaying bodies, not for convenience: each pooled connection reads into one buffer of its own
// (net's `onread`), and the body bytes are handed to the relay as views of that buffer
// (h1-response.ts parses them there), to be written out before the callback returns.
// node:http instead copies every body piece into a fresh Buffer (its parser's on_body), which on this
// 2-core VM cost more than the relay itself: a 64 MiB GET through the gateway ran at 150–250 MiB/s with
// the proxy's thread saturated by the copy, the page faults of glibc handing those buffers back and forth
// to the kernel, and V8's GCs of their external memory.
//
// A connection goes back to the pool only when the request was fully sent and the response fully read,
// neither side said `Connection: close` and HTTP/1.1 was spoken.
import net from 'node:net';
import tls from 'node:tls';
import { ResponseParser, type ResponseHead } from './h1-response';
import { KEEPALIVE_IDLE_MS } from './agent';

export type UpstreamHead = ResponseHead;

export interface UpstreamHandler {
  onHead(head: UpstreamHead): void;
  /**
   * Body bytes: a view of the connection's read buffer, valid only during the call. Returning false
   * stops reading until resume(); bytes already read are still delivered (in further calls).
   */
  onBody(chunk: Buffer): boolean;
  /** The whole response has arrived. */
  onEnd(): void;
  /**
   * The exchange failed (it is over). `retryable`: it ran on a reused connection that failed before any
   * byte of the response arrived — the server closed it as we reused it; a request without a body can go
   * again on a new connection.
   */
  onError(err: Error, retryable: boolean): void;
  /** The request body may take more after write() returned false. */
  onDrain(): void;
}

export interface UpstreamTarget {
  host: string;
  port: number;
  /** Connect over TLS with these options (another node's intra-cluster port under --intra-tls). */
  tls?: tls.ConnectionOptions;
}

/** Idle connections kept per upstream. */
const MAX_FREE = 64;
/** Each connection's read buffer. */
const READ_BUF = 128 * 1024;
class Conn {
  readonly socket: net.Socket;
  readonly key: string;
  /** The exchange the connection serves; undefined while pooled. */
  ex: UpstreamRequest | undefined;
  idleSince = 0;
  /** Has served (or is serving) an exchange before the current one. */
  served = 0;

  constructor(to: UpstreamTarget, key: string) {
    this.key = key;
    if (to.tls) {
      // TLS sockets deliver decrypted bytes in fresh buffers ('data'); received() pauses the socket itself.
      this.socket = tls.connect({ ...to.tls, host: to.host, port: to.port });
      this.socket.setNoDelay(true);
      this.socket.on('data', (b: Buffer) => this.onRead(b.length, b));
    } else {
      this.socket = net.connect({
        host: to.host,
        port: to.port,
        noDelay: true,
        onread: { buffer: Buffer.allocUnsafe(READ_BUF), callback: (n: number, buf: Uint8Array) => this.onRead(n, buf) },
      });
    }
    this.socket.on('error', (err) => this.onClose(err));
    this.socket.on('close', () => this.onClose());
    this.socket.on('drain', () => this.ex?.drained());
    this.socket.on('timeout', () => this.socket.destroy(new Error('upstream idle timeout')));
  }

  private onRead(n: number, buf: Uint8Array): boolean {
    if (!this.ex) {
      // A pooled connection has nothing to say: whatever it is, the connection is not reusable.
      this.socket.destroy();
      return false;
    }
    return this.ex.received(Buffer.from(buf.buffer, buf.byteOffset, n));
  }

  private onClose(err?: Error): void {
    unpool(this);
    const ex = this.ex;
    this.ex = undefined;
    ex?.closed(err);
  }
}

const pool = new Map<string, Conn[]>();

// Slabs for request body bytes in flight. A fresh Buffer per body chunk (uWS hands over up to 512 KiB
// at a time) went through glibc's mmap and page faults for every byte: a 64 MiB PUT through the gateway
// ran at 0.44 of a direct one, 0.80 with glibc's thresholds raised. An exchange holds one or two slabs at
// a time (its writer pauses the client once the socket's queue passes its high-water mark).
const SLAB = 512 * 1024;
const SLABS_KEPT = 16;
const slabs: Buffer[] = [];

function takeSlab(n: number): Buffer {
  if (n > SLAB) return Buffer.allocUnsafeSlow(n);
  return slabs.pop() ?? Buffer.allocUnsafeSlow(SLAB);
}

function giveSlab(b: Buffer): void {
  if (b.length === SLAB && slabs.length < SLABS_KEPT) slabs.push(b);
}

function unpool(c: Conn): void {
  const list = pool.get(c.key);
  const i = list ? list.indexOf(c) : -1;
  if (i >= 0) list!.splice(i, 1);
}

function checkout(to: UpstreamTarget): Conn {
  const key = `${to.tls ? 'tls:' : ''}${to.host}:${to.port}`;
  const list = pool.get(key);
  const now = Date.now();
  while (list && list.length) {
    const c = list.pop()!;
    if (now - c.idleSince < KEEPALIVE_IDLE_MS && !c.socket.destroyed) return c;
    c.socket.destroy();
  }
  return new Conn(to, key);
}

function checkin(c: Conn): void {
  c.ex = undefined;
  c.idleSince = Date.now();
  c.socket.setTimeout(0);
  let list = pool.get(c.key);
  if (!list) pool.set(c.key, (list = []));
  if (list.length >= MAX_FREE) return void c.socket.destroy();
  list.push(c);
}

// Sweep idle connections even when nothing is checked out (they would otherwise sit until the server
// drops them, and be found closed at the next checkout).
setInterval(() => {
  const now = Date.now();
  for (const list of pool.values()) for (const c of [...list]) if (now - c.idleSince >= KEEPALIVE_IDLE_MS) c.socket.destroy();
}, 1000).unref();

/** One request/response exchange on a pooled connection. */
export class UpstreamRequest {
  private readonly conn: Conn;
  private readonly reused: boolean;
  private readonly chunkedUp: boolean;
  private readonly parser: ResponseParser;
  private gotBytes = false;
  private ended = false;
  private over = false;
  /** The request said `Connection: close`. */
  private readonly closeAfter: boolean;
  private pauseAsked = false;

  constructor(
    to: UpstreamTarget,
    method: string,
    path: string,
    /** Lower-case names. `transfer-encoding: chunked` makes write() frame the body in chunks. */
    headers: Record<string, string>,
    private readonly handler: UpstreamHandler,
    timeoutMs: number,
  ) {
    let h = `${method} ${path} HTTP/1.1\r\n`;
    if (headers['host'] === undefined) h += `host: ${to.host}:${to.port}\r\n`;
    for (const k of Object.keys(headers)) {
      const v = headers[k]!;
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) throw new Error(`header ${JSON.stringify(k)} has a line break`);
      h += `${k}: ${v}\r\n`;
    }
    this.chunkedUp = /(^|,)\s*chunked\s*$/i.test(headers['transfer-encoding'] ?? '');
    this.closeAfter = (headers['connection'] ?? '').toLowerCase().includes('close');
    this.parser = new ResponseParser(method === 'HEAD', {
      onHead: (head) => handler.onHead(head),
      onBody: (b) => {
        if (b.length && !this.over && !handler.onBody(b)) this.pauseAsked = true;
      },
      onDone: () => this.done(),
      live: () => !this.over,
    });
    this.conn = checkout(to);
    this.reused = this.conn.served++ > 0;
    this.conn.ex = this;
    this.conn.socket.setTimeout(timeoutMs);
    this.conn.socket.write(`${h}\r\n`, 'latin1');
  }

  /**
   * Request body bytes, copied (the caller may reuse `data` at once: uWS's body chunks are only valid
   * during its callback) into a pooled slab that goes back to the pool once the socket has written it.
   */
  write(data: Uint8Array): boolean {
    if (this.over || this.ended || data.length === 0) return true;
    const s = this.conn.socket;
    const slab = takeSlab(data.length);
    slab.set(data);
    const body = slab.subarray(0, data.length);
    const back = (): void => giveSlab(slab);
    if (!this.chunkedUp) return s.write(body, back);
    s.cork();
    s.write(`${data.length.toString(16)}\r\n`, 'latin1');
    s.write(body, back);
    const ok = s.write('\r\n', 'latin1');
    s.uncork();
    return ok;
  }

  /** The request is complete. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.over) return;
    if (this.chunkedUp) this.conn.socket.write('0\r\n\r\n', 'latin1');
  }

  pause(): void {
    if (!this.over) this.conn.socket.pause();
  }

  resume(): void {
    if (!this.over) this.conn.socket.resume();
  }

  /** Abandons the exchange: the connection is closed, the handler hears nothing more. */
  destroy(): void {
    if (this.over) return;
    this.over = true;
    this.conn.ex = undefined;
    this.conn.socket.destroy();
  }

  // ---- called by the connection ----

  drained(): void {
    if (!this.over) this.handler.onDrain();
  }

  closed(err?: Error): void {
    if (this.over) return;
    if (this.parser.untilClose && !err) {
      this.over = true;
      return this.handler.onEnd();
    }
    this.over = true;
    const retryable = this.reused && !this.gotBytes;
    const e = err ?? Object.assign(new Error(this.gotBytes ? 'upstream closed the connection mid-response' : 'upstream closed the connection'), { code: 'ECONNRESET' });
    this.handler.onError(e, retryable);
  }

  /** Bytes from the socket; returns false to pause reading. */
  received(data: Buffer): boolean {
    this.pauseAsked = false;
    if (data.length) this.gotBytes = true;
    try {
      // Bytes past the end of the response: the connection is out of step (it may already be back in
      // the pool: closing it takes it out).
      if (this.parser.feed(data) < data.length && this.parser.done) this.conn.socket.destroy();
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    // Pause only a live exchange: one that ended in this read has put its connection back in the pool,
    // where a paused socket would never read the next exchange's answer.
    const pause = this.pauseAsked && !this.over;
    if (pause) this.conn.socket.pause();
    return !pause;
  }

  private fail(err: Error): void {
    if (this.over) return;
    this.over = true;
    this.conn.ex = undefined;
    this.conn.socket.destroy();
    this.handler.onError(err, false);
  }

  private done(): void {
    if (this.over) return;
    this.over = true;
    this.handler.onEnd();
    if (this.ended) this.release();
    else {
      // The response came before the whole request went up: the connection is mid-request.
      this.conn.ex = undefined;
      this.conn.socket.destroy();
    }
  }

  private release(): void {
    if (this.conn.ex !== this) return;
    if (this.closeAfter || !this.parser.keepAlive || this.conn.socket.destroyed) {
      this.conn.ex = undefined;
      this.conn.socket.destroy();
      return;
    }
    this.conn.socket.resume();
    checkin(this.conn);
  }
}
