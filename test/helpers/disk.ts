// Test helpers for objects on disk and streamed GETs: find an object's file, corrupt it, read a large
// GET without holding it, leave a GET midway.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AisNode } from './node';

/** The object file of a plain key (letters, digits, '/') on whichever mountpath holds it. */
export function objectFile(n: AisNode, bucket: string, key: string): string {
  const found = n.dirs.mountpaths.map((mp) => path.join(mp, '@ais', bucket)).map((d) => path.join(d, '%ob', key)).filter((f) => fs.existsSync(f));
  if (found.length !== 1) throw new Error(`${bucket}/${key}: found on ${found.length} mountpaths`);
  return found[0]!;
}

export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const one = Buffer.alloc(1);
    fs.readSync(fd, one, 0, 1, offset);
    one[0] ^= 0x5a;
    fs.writeSync(fd, one, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}

/** GET with the body streamed and hashed: whether it completed, the status and what arrived. */
export function getStreamed(url: string, p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; length: number; sha256: string; error?: string }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const h = createHash('sha256');
    let length = 0;
    let status = 0;
    let resHeaders: http.IncomingHttpHeaders = {};
    let done = false;
    const finish = (error?: string): void => {
      if (done) return;
      done = true;
      resolve({ status, headers: resHeaders, length, sha256: h.digest('hex'), error });
    };
    const req = http.get({ host: u.hostname, port: u.port, path: p, headers, agent: false, timeout: 60_000 }, (res) => {
      status = res.statusCode ?? 0;
      resHeaders = res.headers;
      res.on('data', (c: Buffer) => {
        h.update(c);
        length += c.length;
      });
      res.on('end', () => finish(res.complete ? undefined : 'incomplete'));
      res.on('aborted', () => finish('aborted'));
      res.on('error', (e) => finish(e.message));
      res.on('close', () => finish(res.complete ? undefined : 'closed early'));
    });
    req.on('error', (e) => finish(e.message));
    req.on('timeout', () => req.destroy(new Error('no data for 60 s')));
  });
}

/** GETs `p` and closes the connection as soon as the first body bytes arrive; resolves with the status. */
export function leaveAfterFirstBytes(url: string, p: string): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: u.hostname, port: u.port, path: p, agent: false }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
  });
}
