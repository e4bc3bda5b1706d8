// What a handler needs of a uWS request, captured synchronously (uWS request objects die when the
// handler returns), and the small response helpers every handler shares.
import type { HttpRequest, HttpResponse } from '../util/uws';
import { log } from '../util/log';

export interface Req {
  readonly method: string;
  /** Path as received, still percent-encoded. */
  readonly url: string;
  /** Raw query string without '?'. */
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Set by onAborted: the client is gone, stop writing to `res`. */
  aborted: boolean;
  /** Called once when the client goes away mid-request (set by streaming handlers). */
  onAbort?: () => void;
  readonly id: string;
}

let seq = 0;
const bootId = Date.now().toString(36).toUpperCase();

export function captureRequest(res: HttpResponse, req: HttpRequest): Req {
  const headers: Record<string, string> = {};
  req.forEach((k, v) => {
    headers[k] = k in headers ? `${headers[k]},${v}` : v;
  });
  const r: Req = {
    method: req.getMethod().toUpperCase(),
    url: req.getUrl(),
    query: req.getQuery() ?? '',
    headers,
    aborted: false,
    id: `${bootId}${(++seq).toString(36).toUpperCase()}`,
  };
  res.onAborted(() => {
    r.aborted = true;
    r.onAbort?.();
  });
  contain(res, r);
  return r;
}

/**
 * A handler that throws from a uWS callback (a body piece, a writable socket) would take the whole
 * HTTP thread, and so the node, down with it: Go's HTTP server recovers a handler's panic per request,
 * and so do we. The error is logged with its stack and that one connection is closed (what was sent of
 * the answer, if anything, cannot be trusted); the node goes on serving.
 */
function contain(res: HttpResponse, r: Req): void {
  const onData = res.onData.bind(res);
  const onWritable = res.onWritable.bind(res);
  const failed = (err: unknown): void => {
    log.error(`request ${r.id} ${r.method} ${r.url}: handler failed, connection closed: ${(err as Error)?.stack ?? String(err)}`);
    if (r.aborted) return;
    try {
      res.close(); // runs onAborted: r.aborted, and the handler's onAbort to release what it holds
    } catch {
      // uWS has let go of the response already
    }
  };
  const mut = res as { onData: HttpResponse['onData']; onWritable: HttpResponse['onWritable'] };
  mut.onData = (handler) =>
    onData((chunk, isLast) => {
      try {
        handler(chunk, isLast);
      } catch (err) {
        failed(err);
      }
    });
  mut.onWritable = (handler) =>
    onWritable((offset) => {
      try {
        return handler(offset);
      } catch (err) {
        failed(err);
        return true;
      }
    });
}

export function header(req: Req, name: string): string {
  return req.headers[name] ?? '';
}

export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** Writes a complete response in one corked burst. */
export function reply(res: HttpResponse, req: Req, status: string, headers: HeaderList, body?: string | Uint8Array): void {
  if (req.aborted) return;
  res.cork(() => {
    res.writeStatus(status);
    for (const [k, v] of headers) res.writeHeader(k, v);
    res.writeHeader('x-amz-request-id', req.id);
    if (req.method === 'HEAD') endHead(res, body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length);
    else res.end(body ?? '');
  });
}

/**
 * Ends a HEAD response announcing `length` bytes. uWS v20.30's endWithoutBody(n) with n > 0 leaves the
 * response waiting for n body bytes, and the next request on the keep-alive connection dies; writing
 * Content-Length ourselves and ending without a reported length avoids that. Call inside cork.
 */
export function endHead(res: HttpResponse, length: number): void {
  res.writeHeader('Content-Length', String(length));
  res.endWithoutBody();
}

export const STATUS: Record<number, string> = {
  200: '200 OK',
  204: '204 No Content',
  206: '206 Partial Content',
  304: '304 Not Modified',
  400: '400 Bad Request',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  411: '411 Length Required',
  412: '412 Precondition Failed',
  416: '416 Range Not Satisfiable',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  501: '501 Not Implemented',
  503: '503 Service Unavailable',
  507: '507 Insufficient Storage',
};

export function statusLine(code: number): string {
  return STATUS[code] ?? `${code} Status`;
}

export class BodyTooLarge extends Error {}

/** Collects a small request body (control messages); must be called synchronously in the handler. */
export function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((ab, isLast) => {
      size += ab.byteLength;
      if (size <= limit) chunks.push(Buffer.from(ab.slice(0)));
      if (!isLast) return;
      if (size > limit) reject(new BodyTooLarge(`request body over ${limit} bytes`));
      else resolve(Buffer.concat(chunks));
    });
  });
}
