// The CLI's HTTP client for the native API: JSON calls, and streamed object PUT/GET (a file or stdin up,
// a file or stdout down) with progress. Follows a gateway's 307 to the owner target (config
// proxy.s3_redirect), re-sending the body. Errors become CliError with the cluster's message.
import http from 'node:http';
import fs from 'node:fs';
import https from 'node:https';
import type { Readable, Writable } from 'node:stream';
import { CliError } from './command';

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface CallOptions {
  query?: Record<string, string>;
  /** Sent as the JSON body (an action message). */
  json?: unknown;
  headers?: Record<string, string>;
  /** 404 is an answer, not an error (HEAD probes). */
  allow404?: boolean;
}

export const MAX_REDIRECTS = 3;

export class Api {
  private token: string | undefined;

  constructor(
    readonly endpoint: string,
    /** The bearer token of a cluster with auth on (read once, at the first request); '' for none. */
    private readonly loadToken: () => string = () => '',
  ) {
    let u: URL;
    try {
      u = new URL(endpoint);
    } catch {
      throw new CliError(`invalid AIS_ENDPOINT "${endpoint}" (expected e.g. http://localhost:8080)`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(`invalid AIS_ENDPOINT "${endpoint}": http:// or https:// only`);
  }

  url(path: string, query?: Record<string, string>): URL {
    const u = new URL(this.endpoint.replace(/\/+$/, '') + path);
    if (query) for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    return u;
  }

  async call(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse> {
    const body = opts.json === undefined ? undefined : Buffer.from(JSON.stringify(opts.json));
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (body) headers['Content-Type'] = 'application/json';
    const res = await this.send(method, this.url(path, opts.query), headers, body ? () => body : undefined, body?.length);
    const buf = await readAll(res);
    const r: ApiResponse = { status: res.statusCode ?? 0, headers: res.headers, body: buf };
    if (r.status >= 400 && !(opts.allow404 && r.status === 404)) throw apiError(r, method);
    return r;
  }

  /** Sends a request, following 307/302 (the body is produced again for each attempt). */
  async send(method: string, url: URL, headers: Record<string, string>, body: (() => Buffer | Readable) | undefined, length?: number): Promise<http.IncomingMessage> {
    this.token ??= this.loadToken();
    if (this.token !== '') headers = { Authorization: `Bearer ${this.token}`, ...headers };
    for (let hop = 0; ; hop++) {
      const res = await once(method, url, headers, body?.(), length);
      const loc = res.headers.location;
      if ((res.statusCode === 307 || res.statusCode === 302) && loc && hop < MAX_REDIRECTS) {
        res.resume();
        url = new URL(loc, url);
        continue;
      }
      return res;
    }
  }
}

/**
 * AIStore's CLI settings for an https:// endpoint: AIS_CLIENT_CA (a PEM file of the CA that signed the
 * cluster's certificate) and AIS_SKIP_VERIFY_CRT=true (no verification: tests and self-signed setups).
 * NODE_EXTRA_CA_CERTS works too, as for any Node program.
 */
function tlsOptions(): https.RequestOptions {
  const ca = process.env.AIS_CLIENT_CA;
  let caPem: Buffer | undefined;
  if (ca) {
    try {
      caPem = fs.readFileSync(ca);
    } catch (err) {
      throw new CliError(`AIS_CLIENT_CA: cannot read ${ca}: ${(err as Error).message}`);
    }
  }
  return { ...(caPem ? { ca: caPem } : {}), ...(process.env.AIS_SKIP_VERIFY_CRT === 'true' ? { rejectUnauthorized: false } : {}) };
}

function once(method: string, url: URL, headers: Record<string, string>, body: Buffer | Readable | undefined, length?: number): Promise<http.IncomingMessage> {
  const h: Record<string, string> = { 'User-Agent': 'tais-ais-cli', ...headers };
  if (length !== undefined) h['Content-Length'] = String(length);
  else if (body && !Buffer.isBuffer(body)) h['Transfer-Encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    const req = url.protocol === 'https:' ? https.request(url, { method, headers: h, ...tlsOptions() }, resolve) : http.request(url, { method, headers: h }, resolve);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
      reject(new CliError(`cannot reach the cluster at ${url.origin}: ${why} (set AIS_ENDPOINT to its gateway, e.g. http://localhost:8080)`));
    });
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    }
  });
}

export function readAll(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** The cluster's {"message"} (or the status) as a CliError. */
export function apiError(r: ApiResponse, method: string): CliError {
  let message = '';
  try {
    const j = JSON.parse(r.body.toString('utf8')) as { message?: string };
    if (typeof j.message === 'string') message = j.message;
  } catch {
    message = r.body.toString('utf8').trim().slice(0, 500);
  }
  if (message === '') message = method === 'HEAD' && r.status === 404 ? 'does not exist' : `${r.status} ${http.STATUS_CODES[r.status] ?? ''}`.trim();
  return Object.assign(new CliError(message), { status: r.status });
}

/** Pipes a response body into `out`, counting bytes; resolves when `out` has it all. */
export function pipeBody(res: http.IncomingMessage, out: Writable, onBytes: (n: number) => void, end = true): Promise<void> {
  return new Promise((resolve, reject) => {
    res.on('data', (c: Buffer) => onBytes(c.length));
    res.on('error', reject);
    res.on('aborted', () => reject(new CliError('the connection was cut before the whole object arrived')));
    out.on('error', reject);
    if (end) out.on('finish', () => resolve());
    else res.on('end', () => resolve());
    res.pipe(out, { end });
  });
}
