// `ais get` over http, into a file or to stdout: with the relay client the gateway uses
// (src/util/upstream.ts): each piece of the body is written out (writeSync) straight from the
// connection's read buffer. Through node:http every 64 KiB piece is copied into a new Buffer and later
// collected by V8: on the 2-core VM a 1 GiB object took 4.3 s to a file (curl: 0.65 s). https keeps
// node:http.
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

/** Set when the reader of a pipe we write to has gone (EPIPE). */
export class ReaderGone extends Error {}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `b` to `fd` before returning (the bytes are a view of the connection's read buffer). A
 * pipe or socket left non-blocking by whoever gave it to us answers EAGAIN when full: wait for its
 * reader, a millisecond at a time (the download stalls meanwhile, as it must).
 */
function writeFully(fd: number, b: Uint8Array): void {
  for (let off = 0; off < b.length; ) {
    try {
      off += fs.writeSync(fd, b, off, b.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else if (code === 'EPIPE') throw new ReaderGone('the reader of the output went away');
      else throw err;
    }
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
            writeFully(fd, b);
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
