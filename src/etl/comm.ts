// How a target hands an object to its transformer and gets the result back, in AIStore's two push
// protocols (ext/etl/communicator.go, websocket_comm.go):
// - ws://: a few long-lived WebSockets to <transformer>/ws; per object two binary messages, a control
//   JSON {"path","etl_args"} and the bytes; the transformer answers each with one binary message, in the
//   order it got them (a FIFO per connection). With `argument: "fqn"` the control message carries
//   "fqn" (the object's file path, URL-escaped) and no bytes follow: the transformer reads the file. A text answer is AIStore's "handled by direct put",
//   which tais never asks for: it is an error here, never a silent empty object.
// - hpush://: PUT <transformer>/<bucket>/<object>?etl_args=... with the bytes; the answer's body (with
//   `argument: "fqn"`: ?etl_fqn=<escaped path> and no body).
import http from 'node:http';
import WebSocket from 'ws';
import { keepAliveAgent } from '../util/agent';

export interface EtlTask {
  bucket: string;
  objName: string;
  args?: string;
  /** The object's bytes; empty when `fqn` is given. */
  body: Buffer;
  /** The object's file (argument "fqn"): sent instead of the bytes. */
  fqn?: string;
  /** With `fqn`: the object's size, for the ETL's counters. */
  size?: number;
}

export interface Communicator {
  transform(t: EtlTask): Promise<Buffer>;
  close(): void;
}

/** Errors of the transformer (its answers, its connection, its time): 502/504 to the client. */
export class TransformError extends Error {
  constructor(
    message: string,
    readonly timeout = false,
  ) {
    super(message);
  }
}

/** Largest transformed object a target accepts (the whole object is in memory, as in AIStore's ws://). */
export const MAX_ETL_OBJECT = 1 << 30;

interface Pending {
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** One WebSocket and its tasks in flight, oldest first. */
class WsConn {
  readonly pending: Pending[] = [];
  private readonly ws: WebSocket;
  private readonly ready: Promise<void>;
  closed = false;

  constructor(url: string, onGone: (c: WsConn) => void) {
    // A zero mask: `ws` then sends the object's bytes as they are instead of XOR-copying each message in
    // JS (a client must mask, RFC 6455 5.3, against cache poisoning by browsers' proxies; a target's
    // connection to its own transformer has no such proxy). 1 MiB objects: several times the GETs/s.
    this.ws = new WebSocket(url, { maxPayload: MAX_ETL_OBJECT, perMessageDeflate: false, generateMask: (mask) => void mask.fill(0) });
    this.ready = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', (err) => reject(new TransformError(`cannot connect to the transformer at ${url}: ${err.message}`)));
    });
    this.ready.catch(() => {});
    this.ws.on('message', (data, isBinary) => {
      const p = this.pending.shift();
      if (!p) return this.fail(new TransformError('the transformer answered an object it was not sent'));
      clearTimeout(p.timer);
      // A Buffer as `ws` delivers it (binaryType nodebuffer): taken as is, not copied again.
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      if (isBinary) p.resolve(buf);
      else p.reject(new TransformError(`the transformer answered text instead of the object's bytes: ${buf.toString('utf8').slice(0, 200)}`));
    });
    this.ws.on('close', (code) => {
      this.fail(new TransformError(`the transformer closed the WebSocket (code ${code})`));
      onGone(this);
    });
    this.ws.on('error', (err) => {
      this.fail(new TransformError(`transformer WebSocket: ${err.message}`));
      onGone(this);
    });
  }

  async send(t: EtlTask, timeoutMs: number): Promise<Buffer> {
    await this.ready;
    if (this.closed) throw new TransformError('the transformer WebSocket is closed');
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Answers come in order: one lost answer would shift every later one onto the wrong object.
        this.fail(new TransformError(`the transformer did not answer within ${timeoutMs} ms`, true));
      }, timeoutMs);
      this.pending.push({ resolve, reject, timer });
      const ctrl = JSON.stringify({ path: t.objName, ...(t.args ? { etl_args: t.args } : {}), ...(t.fqn ? { fqn: encodeURIComponent(t.fqn) } : {}) });
      this.ws.send(Buffer.from(ctrl), { binary: true });
      if (!t.fqn) this.ws.send(t.body, { binary: true });
    });
  }

  fail(err: Error): void {
    if (!this.closed) {
      this.closed = true;
      this.ws.terminate();
    }
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

export class WsCommunicator implements Communicator {
  private conns: WsConn[] = [];

  constructor(
    private readonly url: string,
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {}

  transform(t: EtlTask): Promise<Buffer> {
    this.conns = this.conns.filter((c) => !c.closed);
    let conn: WsConn;
    if (this.conns.length < this.size) {
      conn = new WsConn(this.url, (gone) => (this.conns = this.conns.filter((c) => c !== gone)));
      this.conns.push(conn);
    } else conn = this.conns.reduce((a, b) => (b.pending.length < a.pending.length ? b : a));
    return conn.send(t, this.timeoutMs);
  }

  close(): void {
    for (const c of this.conns.splice(0)) c.fail(new TransformError('the ETL was stopped'));
  }
}

const agent = keepAliveAgent({ maxSockets: 16 });

export class HpushCommunicator implements Communicator {
  constructor(
    private readonly base: string,
    private readonly timeoutMs: number,
  ) {}

  transform(t: EtlTask): Promise<Buffer> {
    // The path escaped once more inside the query, as AIStore does (url.PathEscape, then query encoding).
    const q = [...(t.args ? [`etl_args=${encodeURIComponent(t.args)}`] : []), ...(t.fqn ? [`etl_fqn=${encodeURIComponent(encodeURIComponent(t.fqn))}`] : [])].join('&');
    const path = `/${encodeURIComponent(t.bucket)}/${t.objName.split('/').map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`;
    return new Promise((resolve, reject) => {
      const u = new URL(this.base); // the path as given: resolved as a URL, a name's '..' would collapse
      const req = http.request({ hostname: u.hostname, port: u.port, path, method: 'PUT', agent, headers: { 'content-length': t.body.length, 'content-type': 'application/octet-stream' } }, (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        res.on('data', (b: Buffer) => {
          n += b.length;
          if (n > MAX_ETL_OBJECT) req.destroy(new TransformError(`the transformed object is larger than ${MAX_ETL_OBJECT} bytes`));
          else parts.push(b);
        });
        res.on('end', () => {
          const body = Buffer.concat(parts);
          if (res.statusCode === 200) resolve(body);
          else reject(new TransformError(`the transformer answered ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`));
        });
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new TransformError(`the transformer did not answer within ${this.timeoutMs} ms`, true)));
      req.on('error', (err) => reject(err instanceof TransformError ? err : new TransformError(`transformer at ${this.base}: ${err.message}`)));
      req.end(t.body);
    });
  }

  close(): void {}
}
