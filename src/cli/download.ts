// `ais get` into a file over http: with the relay client the gateway uses (src/util/upstream.ts): each
// piece of the body is written to the file (writeSync) straight from the connection's read buffer.
// Through node:http every 64 KiB piece is copied into a new Buffer and later collected by V8: on the
// 2-core VM a 1 GiB object took 4.3 s to a file (curl: 0.65 s). https and stdout keep node:http.
import fs from 'node:fs';
import { UpstreamRequest, type UpstreamHead } from '../util/upstream';
import { CliError } from './command';
import { MAX_REDIRECTS } from './client';

export interface Fetched {
  status: number;
  header(name: string): string | undefined;
  /** The body of an answer of 400 and more (an error message), collected instead of written. */
  body?: Buffer;
}

/**
 * GETs `url` (http: only), following 307/302, and writes a 2xx answer's body to `fd` as it arrives:
 * `onHead` sees the answer's status and headers before its first byte, `onChunk` each piece once
 * written (a view, valid during the call).
 */
export async function getToFd(
  url: URL,
  headers: Record<string, string>,
  fd: number,
  onHead: (status: number, header: (name: string) => string | undefined) => void,
  onChunk: (piece: Uint8Array) => void,
): Promise<Fetched> {
  for (let hop = 0; ; hop++) {
    const r = await once(url, headers, fd, onHead, onChunk);
    if (r.location === undefined || hop >= MAX_REDIRECTS) return r;
    url = new URL(r.location, url);
  }
}

function once(
  url: URL,
  headers: Record<string, string>,
  fd: number,
  onHead: (status: number, header: (name: string) => string | undefined) => void,
  onChunk: (piece: Uint8Array) => void,
): Promise<Fetched & { location?: string }> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { host: url.host, 'user-agent': 'tais-ais-cli' };
    for (const [k, v] of Object.entries(headers)) h[k.toLowerCase()] = v;
    // One exchange: the connection is not pooled (a pooled one would keep the CLI from exiting).
    h['connection'] = 'close';
    let head: UpstreamHead | undefined;
    let mode: 'write' | 'collect' | 'drop' = 'drop';
    const parts: Buffer[] = [];
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      reject(err);
    };
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const up = new UpstreamRequest({ host, port: Number(url.port || 80) }, 'GET', `${url.pathname}${url.search}`, h, {
      onHead: (hd) => {
        head = hd;
        if ((hd.status === 307 || hd.status === 302) && hd.header('location')) mode = 'drop';
        else if (hd.status >= 400) mode = 'collect';
        else {
          mode = 'write';
          onHead(hd.status, (n) => hd.header(n));
        }
      },
      onBody: (b) => {
        if (mode === 'collect') parts.push(Buffer.from(b));
        else if (mode === 'write' && !done) {
          try {
            for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off, b.length - off);
            onChunk(b);
          } catch (err) {
            up.destroy();
            fail(err as Error);
          }
        }
        return true;
      },
      onEnd: () => {
        if (done) return;
        done = true;
        const hd = head!;
        const location = mode === 'drop' ? hd.header('location') : undefined;
        resolve({ status: hd.status, header: (n) => hd.header(n), body: mode === 'collect' ? Buffer.concat(parts) : undefined, location });
      },
      onError: (err: NodeJS.ErrnoException) => {
        if (head) return fail(new CliError('the connection was cut before the whole object arrived'));
        const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
        fail(new CliError(`cannot reach the cluster at ${url.origin}: ${why} (set AIS_ENDPOINT to its gateway, e.g. http://localhost:8080)`));
      },
      onDrain: () => undefined,
    }, 0);
    up.end();
  });
}
