// Reverse-proxy mode of the gateway: a client request that arrived on uWS is streamed to the node that
// owns the object over plain HTTP/1.1 (node:http, pooled keep-alive sockets) and the answer is relayed
// back. Clients that do not follow redirects (boto3) then just work. Both directions keep back-pressure:
// a slow upstream pauses the client's upload, a slow client pauses the upstream's response. Nothing is
// buffered beyond one chunk in flight each way.
import http from 'node:http';
import { keepAliveAgent } from '../util/agent';
import type { HttpResponse } from '../util/uws';
import { endHead, type Req } from '../api/http';
import { s3err } from '../s3/errors';
import { sendS3Error } from '../s3/reply';

export interface ForwardTarget {
  host: string;
  port: number;
}

// One pool for the process: connections to targets are reused (lifo keeps the warmest ones busy and
// lets the rest time out), so the hot path never pays for a TCP handshake.
const agent = keepAliveAgent({ maxSockets: 256, maxFreeSockets: 64 });

/** A hung upstream must not pin the client forever: no byte either way for this long ends the exchange. */
const IDLE_TIMEOUT_MS = 5 * 60_000;

// Meaningful for one connection only (RFC 9110 7.6.1), never relayed. Transfer-Encoding is re-created by
// node on the way up and by uWS on the way down.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'upgrade', 'transfer-encoding']);
// uWS has already answered "100 Continue" to the client; node's client would wait for a second one.
const DROP_UP = new Set([...HOP_BY_HOP, 'expect']);
// uWS writes its own framing (Content-Length or chunked) and its own Date.
const DROP_DOWN = new Set([...HOP_BY_HOP, 'content-length', 'date']);

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

class Forward {
  private up: http.ClientRequest;
  /** A bodiless request whose reused keep-alive socket was reset before any answer is sent once more. */
  private retried = false;
  private ur: http.IncomingMessage | undefined;
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
  /** Body length announced with tryEnd, -1 for a chunked relay. */
  private total = -1;
  /** Fixed-length relay: bytes tryEnd could not take yet, starting at write offset `pendingAt`. */
  private pending: Buffer | undefined;
  private pendingAt = 0;
  /** Chunked relay: a write() was back-pressured; resume upstream on the next writable event. */
  private blocked = false;
  private writableSet = false;

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
    // A body of unknown length goes up chunked, whatever the method (node would not frame a GET body by itself).
    if (te !== undefined) headers['transfer-encoding'] = 'chunked';
    Object.assign(headers, setHeaders);

    const open = (): http.ClientRequest => {
      const up = http.request({ host: to.host, port: to.port, method: req.method, path: pathAndQuery, headers, agent, timeout: IDLE_TIMEOUT_MS });
      up.on('response', (ur) => this.onResponse(ur));
      up.on('timeout', () => up.destroy(new Error(`no data from ${to.host}:${to.port} for ${IDLE_TIMEOUT_MS / 1000} s`)));
      up.on('error', (err: NodeJS.ErrnoException) => {
        // The server closed an idle keep-alive socket as we reused it (Node's documented race): a
        // request without a body can safely go again on a new connection.
        if (!this.hasBody && !this.retried && !this.ur && !this.done && up.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          this.retried = true;
          this.up = open();
          this.up.end();
          return;
        }
        this.fail(err);
      });
      up.on('drain', () => this.setPaused(false));
      return up;
    };
    this.up = open();
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
    if (this.done || this.up.destroyed) return;
    // The ArrayBuffer is only valid during this callback: Buffer.from(Uint8Array) copies it.
    const ok = chunk.byteLength === 0 || this.up.write(Buffer.from(new Uint8Array(chunk)));
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

  private onResponse(ur: http.IncomingMessage): void {
    this.ur = ur;
    // An upstream dying mid-body: node destroys the message with an error, or closes it incomplete.
    ur.on('error', (err) => this.fail(err));
    ur.on('close', () => {
      if (!ur.complete) this.fail(new Error('upstream closed the connection mid-response'));
    });
    if (this.resDone) return void this.up.destroy();
    const status = ur.statusCode ?? 502;
    if (this.takeBack) {
      const ours = this.req.onAbort;
      this.resDone = true; // while the caller decides: nothing here may touch res
      if (this.takeBack(status)) {
        if (this.req.onAbort === ours) this.req.onAbort = undefined; // the caller's handler, if any, stays
        ur.resume();
        if (!this.bodyIn) this.up.destroy();
        return this.finish();
      }
      this.resDone = this.req.aborted;
    }
    const bodiless = this.req.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    const cl = ur.headers['content-length'];
    if (bodiless) {
      ur.resume();
      this.cork(() => {
        // HEAD (and a 304 may) announce the entity's length; endWithoutBody(n) would make uWS wait for n bytes.
        if (cl !== undefined && status !== 204) endHead(this.res, Number(cl));
        else this.res.endWithoutBody();
      });
      return this.complete();
    }
    if (cl !== undefined) {
      this.total = Number(cl);
      if (this.total === 0) {
        ur.resume();
        this.cork(() => this.res.end());
        return this.complete();
      }
      ur.on('data', (chunk: Buffer) => this.sendFixed(chunk));
      // node ends the message only after Content-Length bytes, so tryEnd has finished by then.
      ur.on('end', () => {
        if (!this.done) this.fail(new Error('upstream body shorter than its Content-Length'));
      });
    } else {
      ur.on('data', (chunk: Buffer) => this.sendChunked(chunk));
      ur.on('end', () => {
        if (this.done) return;
        this.cork(() => this.res.end());
        this.complete();
      });
    }
  }

  /** Status line and headers; the first call in every cork that writes to `res`. */
  private writeHead(): void {
    if (this.headSent) return;
    this.headSent = true;
    const ur = this.ur!;
    const code = ur.statusCode ?? 502;
    this.res.writeStatus(`${code} ${ur.statusMessage || http.STATUS_CODES[code] || 'Unknown'}`);
    const raw = ur.rawHeaders;
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

  /** Upstream sent Content-Length: tryEnd gives the client the same length and ends the response. */
  private sendFixed(chunk: Buffer): void {
    if (this.done) return;
    if (this.pending) {
      // Already waiting for the socket (data in flight when we paused): the offsets still line up.
      this.pending = Buffer.concat([this.pending, chunk]);
      return;
    }
    let ok = false;
    let ended = false;
    this.cork(() => {
      this.pendingAt = this.res.getWriteOffset();
      [ok, ended] = this.res.tryEnd(chunk, this.total);
    });
    if (ended) return this.complete();
    if (ok) return;
    this.pending = chunk;
    this.ur!.pause();
    this.armWritable();
  }

  /** Upstream is chunked: relay chunked with write(); uWS buffers what the socket does not take. */
  private sendChunked(chunk: Buffer): void {
    if (this.done) return;
    let ok = true;
    this.cork(() => {
      ok = this.res.write(chunk);
    });
    if (ok) return;
    this.blocked = true;
    this.ur!.pause();
    this.armWritable();
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
        setImmediate(() => this.ur?.resume());
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
        setImmediate(() => this.ur?.resume());
      }
      return ok;
    });
  }

  /** The client has the whole response. */
  private complete(): void {
    this.resDone = true;
    // The upstream socket is only reusable if it also got the whole request.
    if (!this.bodyIn) this.up.destroy();
    this.finish();
  }

  private fail(err: Error): void {
    if (this.done) return;
    if (!this.resDone && !this.req.aborted) {
      if (this.headSent || this.ur) {
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
