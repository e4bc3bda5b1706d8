// Reverse-proxy mode of the gateway: a client request that arrived on uWS is streamed to the node that
// owns the object over plain HTTP/1.1 (util/upstream.ts: pooled keep-alive connections, body bytes relayed
// straight out of each connection's read buffer) and the answer is relayed back. Clients that do not
// follow redirects (boto3) then just work. Both directions keep back-pressure: a slow upstream pauses
// the client's upload, a slow client pauses the upstream's response. Nothing is buffered beyond one
// chunk in flight each way.
import http from 'node:http';
import { UpstreamRequest, type UpstreamHandler, type UpstreamHead, type UpstreamTarget as ForwardTarget } from '../util/upstream';
import type { HttpResponse } from '../util/uws';
import { endHead, type Req } from '../api/http';
import { s3err } from '../s3/errors';
import { sendS3Error } from '../s3/reply';

export type { UpstreamTarget as ForwardTarget } from '../util/upstream';

/** A hung upstream must not pin the client forever: no byte either way for this long ends the exchange. */
const IDLE_TIMEOUT_MS = 5 * 60_000;

// Meaningful for one connection only (RFC 9110 7.6.1), never relayed. Transfer-Encoding is re-created by
// upstream.ts on the way up and by uWS on the way down.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'upgrade', 'transfer-encoding']);
// uWS has already answered "100 Continue" to the client: the upstream must not wait for a reader of one.
const DROP_UP = new Set([...HOP_BY_HOP, 'expect']);
// uWS writes its own framing (Content-Length or chunked), its own Date and its own uWebSockets header.
const DROP_DOWN = new Set([...HOP_BY_HOP, 'content-length', 'date', 'uwebsockets']);

/**
 * Streams the request (method, headers, body) to `to` at `pathAndQuery` and relays status, headers and body back.
 * Must be called synchronously from the uWS handler (it attaches res.onData for the body).
 * `setHeaders` are added/overridden on the upstream request (lower-case names). The original Host header is kept
 * (SigV4 signs it) unless setHeaders has 'host'.
 * `onDone(err?)` is called once when the exchange ends (for stats/logs).
 * `takeBack(status)`, when given, sees the upstream status before anything is relayed: returning true
 * drops the upstream answer and leaves `res` to the caller, who has already answered or will (used by
 * get-from-neighbour when the neighbour no longer has the object).
 */
export function forwardRequest(
  res: HttpResponse,
  req: Req,
  to: ForwardTarget,
  pathAndQuery: string,
  setHeaders?: Record<string, string>,
  onDone?: (err?: Error) => void,
  takeBack?: (status: number) => boolean,
): void {
  new Forward(res, req, to, pathAndQuery, setHeaders, onDone, takeBack);
}

class Forward implements UpstreamHandler {
  private up: UpstreamRequest;
  /** A bodiless request whose reused keep-alive connection was reset before any answer is sent once more. */
  private retried = false;
  private head: UpstreamHead | undefined;
  /** The request has a body to stream up. */
  private readonly hasBody: boolean;
  /** The client's last body chunk has arrived. */
  private bodyIn = false;
  /** The client's socket is paused because the upstream is not taking the body fast enough. */
  private paused = false;
  private headSent = false;
  /** `res` must not be touched any more: ended, closed or aborted (uWS throws on any later call). */
  private resDone = false;
  private done = false;
  /** The answer went back to the caller of takeBack: its body is read and dropped. */
  private dropping = false;
  /** Body length announced with tryEnd, -1 for a chunked relay. */
  private total = -1;
  /** Fixed-length relay: bytes tryEnd could not take yet, starting at write offset `pendingAt`. */
  private pending: Buffer | undefined;
  private pendingAt = 0;
  /** Chunked relay: a write() was back-pressured; resume upstream on the next writable event. */
  private blocked = false;
  private writableSet = false;
  private readonly open: () => UpstreamRequest;

  constructor(
    private readonly res: HttpResponse,
    private readonly req: Req,
    to: ForwardTarget,
    pathAndQuery: string,
    setHeaders: Record<string, string> | undefined,
    private readonly onDone: ((err?: Error) => void) | undefined,
    private readonly takeBack?: (status: number) => boolean,
  ) {
    const h = req.headers;
    const te = h['transfer-encoding'];
    const cl = h['content-length'];
    this.hasBody = te !== undefined || (cl !== undefined && cl !== '0');
    const headers: Record<string, string> = {};
    const named = new Set((h['connection'] ?? '').toLowerCase().split(',').map((s) => s.trim()));
    for (const k of Object.keys(h)) if (!DROP_UP.has(k) && !named.has(k)) headers[k] = h[k]!;
    // A body of unknown length goes up chunked, whatever the method.
    if (te !== undefined) headers['transfer-encoding'] = 'chunked';
    Object.assign(headers, setHeaders);
    this.open = () => new UpstreamRequest(to, req.method, pathAndQuery, headers, this, IDLE_TIMEOUT_MS);
    this.up = this.open();
    req.onAbort = () => {
      this.resDone = true;
      this.up.destroy();
      this.finish(new Error('client went away'));
    };
    // Always attach onData: uWS requires it synchronously, and it delivers an empty last chunk even
    // for bodyless requests (ignored here: those ended upstream at once).
    res.onData((chunk, isLast) => this.onData(chunk, isLast));
    if (!this.hasBody) {
      this.bodyIn = true;
      this.up.end();
    }
  }

  private onData(chunk: ArrayBuffer, isLast: boolean): void {
    if (!this.hasBody || this.bodyIn) return;
    this.bodyIn = isLast;
    // Once the answer is complete or failed the upstream request is gone: uWS still reads the rest of
    // the body (keeping the client's connection usable), and it is dropped.
    if (this.done) return;
    // The ArrayBuffer is only valid during this callback: write() copies it.
    const ok = chunk.byteLength === 0 || this.up.write(new Uint8Array(chunk));
    if (isLast) {
      this.up.end();
      // The last bytes can come while paused: a socket left paused would not read the client's next request.
      this.setPaused(false);
    } else if (!ok) this.setPaused(true);
  }

  /** Pauses/resumes reading the client's body; only while `res` is alive (uWS throws after). */
  private setPaused(paused: boolean): void {
    if (this.paused === paused || this.resDone) return;
    this.paused = paused;
    if (paused) this.res.pause();
    else this.res.resume();
  }

  onDrain(): void {
    this.setPaused(false);
  }

  onError(err: Error, retryable: boolean): void {
    // The server closed an idle keep-alive connection as we reused it: a request without a body can
    // safely go again on a new connection.
    if (retryable && !this.hasBody && !this.retried && !this.head && !this.done) {
      this.retried = true;
      this.up = this.open();
      this.up.end();
      return;
    }
    this.fail(err);
  }

  onHead(head: UpstreamHead): void {
    this.head = head;
    if (this.resDone) return void this.up.destroy();
    const status = head.status;
    if (this.takeBack) {
      const ours = this.req.onAbort;
      this.resDone = true; // while the caller decides: nothing here may touch res
      if (this.takeBack(status)) {
        if (this.req.onAbort === ours) this.req.onAbort = undefined; // the caller's handler, if any, stays
        this.dropping = true;
        if (!this.bodyIn) this.up.destroy();
        return this.finish();
      }
      this.resDone = this.req.aborted;
    }
    const bodiless = this.req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    const cl = head.header('content-length');
    if (bodiless) {
      this.cork(() => {
        // HEAD (and a 304 may) announce the entity's length; endWithoutBody(n) would make uWS wait for n bytes.
        if (cl !== undefined && status !== 204) endHead(this.res, Number(cl));
        else this.res.endWithoutBody();
      });
      return this.complete();
    }
    if (head.header('transfer-encoding') === undefined && cl !== undefined) {
      this.total = Number(cl);
      if (this.total === 0) {
        this.cork(() => this.res.end());
        this.complete();
      }
    }
  }

  onBody(chunk: Buffer): boolean {
    if (this.dropping || this.done) return true;
    return this.total >= 0 ? this.sendFixed(chunk) : this.sendChunked(chunk);
  }

  onEnd(): void {
    if (this.dropping || this.done) return;
    if (this.total >= 0) {
      // All Content-Length bytes came: tryEnd ended the response, or will from the writable handler.
      if (!this.pending) this.fail(new Error('upstream body shorter than its Content-Length'));
      return;
    }
    this.cork(() => this.res.end());
    this.complete();
  }

  /** Status line and headers; the first call in every cork that writes to `res`. */
  private writeHead(): void {
    if (this.headSent) return;
    this.headSent = true;
    const head = this.head!;
    const code = head.status;
    this.res.writeStatus(`${code} ${head.statusText || http.STATUS_CODES[code] || 'Unknown'}`);
    const raw = head.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (!DROP_DOWN.has(raw[i]!.toLowerCase())) this.res.writeHeader(raw[i]!, raw[i + 1]!);
  }

  /** Runs `fn` corked after the head; `res` is ended by some of them, so nothing follows in here. */
  private cork(fn: () => void): void {
    this.setPaused(false); // a response that ends before the request body: let uWS read (and drop) the rest
    if (this.resDone) return;
    this.res.cork(() => {
      this.writeHead();
      fn();
    });
  }

  /**
   * Upstream sent Content-Length: tryEnd gives the client the same length and ends the response.
   * `chunk` is a view of the upstream connection's read buffer: what the socket does not take is copied
   * (the connection stops reading while we wait, but after the response's last bytes it is back in the
   * pool, where another exchange reads into that buffer).
   */
  private sendFixed(chunk: Buffer): boolean {
    if (this.pending) {
      // Already waiting for the socket (bytes of the same read after we paused): the offsets still line up.
      this.pending = Buffer.concat([this.pending, chunk]);
      return false;
    }
    let ok = false;
    let ended = false;
    this.cork(() => {
      this.pendingAt = this.res.getWriteOffset();
      [ok, ended] = this.res.tryEnd(chunk, this.total);
    });
    if (ended) {
      this.complete();
      return true;
    }
    if (ok || this.resDone) return true;
    this.pending = Buffer.from(chunk);
    this.armWritable();
    return false;
  }

  /** Upstream is chunked: relay chunked with write(); uWS copies what the socket does not take. */
  private sendChunked(chunk: Buffer): boolean {
    let ok = true;
    this.cork(() => {
      ok = this.res.write(chunk);
    });
    if (ok || this.resDone) return true;
    this.blocked = true;
    this.armWritable();
    return false;
  }

  // uWS calls this handler on every writable event until the response ends, so it must be a no-op
  // when nothing waits. Upstream reading resumes from setImmediate: uWS does not drain node's queues
  // after this callback, and a write issued from inside it can lose its re-armed poll.
  private armWritable(): void {
    if (this.writableSet) return;
    this.writableSet = true;
    this.res.onWritable((offset) => {
      if (this.done) return true;
      if (this.blocked) {
        this.blocked = false;
        setImmediate(() => this.up.resume());
        return true;
      }
      if (!this.pending) return true;
      const [ok, ended] = this.res.tryEnd(this.pending.subarray(offset - this.pendingAt), this.total);
      if (ended) {
        this.pending = undefined;
        setImmediate(() => this.complete());
        return true;
      }
      if (ok) {
        this.pending = undefined;
        setImmediate(() => this.up.resume());
      }
      return ok;
    });
  }

  /** The client has the whole response. */
  private complete(): void {
    this.resDone = true;
    // The upstream connection is only reusable if it also carried the whole request.
    if (!this.bodyIn) this.up.destroy();
    this.finish();
  }

  private fail(err: Error): void {
    if (this.done) return;
    if (!this.resDone && !this.req.aborted) {
      if (this.headSent || this.head) {
        // Too late for an error status: cut the connection so the client sees a truncated body, not a short complete one.
        this.resDone = true;
        this.res.close();
      } else {
        this.setPaused(false);
        this.resDone = true;
        sendS3Error(this.res, this.req, s3err('ServiceUnavailable', `target unreachable: ${err.message}`));
      }
    }
    this.resDone = true;
    this.up.destroy();
    this.finish(err);
  }

  private finish(err?: Error): void {
    if (this.done) return;
    this.done = true;
    this.onDone?.(err);
  }
}
