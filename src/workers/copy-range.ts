// Piscina task: copy the next stretch of a source object into a copy's work file. Each buffer is read
// with pread fused with the source checksum update (verification), then goes through putChunk, the very
// path a PUT body takes: written and hashed for the destination (bucket checksum, MD5) and, on the last
// buffer, finalized (LOM, fsync, rename or conditional publish). Before the last buffer is written the
// source digest must equal the stored one: a corrupted source never becomes a good-looking copy.
// One task copies at most `budget` bytes and returns, so a large copy does not hold a worker for long.
import fs from 'node:fs';
import { readHashSync, hashDigest, type HashKind } from '../native';
import { putChunk, type HashSlot, type PutFinal } from './put-chunk';
import type { Lom } from '../fs/lom';

export interface CopyRangeTask {
  srcFd: number;
  /** Where in the source the copied bytes start (UploadPartCopy's x-amz-copy-source-range; 0 for a whole object). */
  srcStart: number;
  /** Bytes to copy from srcStart: the whole object, or the range. */
  srcSize: number;
  /** Source checksum to verify; null when the source has none or only a range is copied (a range cannot
   *  be verified, as a range GET). State lives in a SharedArrayBuffer. */
  srcKind: HashKind | null;
  srcState: Uint8Array | null;
  srcExpect: string;
  workPath: string;
  /** -1 before the first buffer: putChunk creates the work file. */
  fd: number;
  direct: boolean;
  /** A shared buffer (4096-aligned for O_DIRECT). */
  buf: Uint8Array;
  position: number;
  /** Bytes to copy in this task at most (a multiple of buf.length). */
  budget: number;
  hashes: HashSlot[];
  final: PutFinal;
}

export type CopyRangeResult =
  | { fd: number; position: number; done?: { lom: Lom }; error?: undefined }
  | { fd: number; error: string; message: string };

export function copyRange(t: CopyRangeTask): CopyRangeResult {
  let fd = t.fd;
  let pos = t.position;
  const stop = Math.min(t.srcSize, pos + t.budget);
  try {
    for (;;) {
      const want = Math.min(t.buf.length, t.srcSize - pos);
      let got = 0;
      while (got < want) {
        const n = readHashSync(t.srcFd, t.buf.subarray(got, want), t.srcStart + pos + got, t.srcKind, t.srcState);
        if (n === 0) return fail(fd, t.workPath, 'SourceCorrupted', `source ends at ${t.srcStart + pos + got}, its metadata says more`);
        got += n;
      }
      const last = pos + got >= t.srcSize;
      if (last && t.srcKind !== null && t.srcState !== null) {
        const digest = hashDigest(t.srcKind, t.srcState);
        if (digest !== t.srcExpect) return fail(fd, t.workPath, 'SourceCorrupted', `source ${t.srcKind} ${digest} != stored ${t.srcExpect}`);
      }
      const r = putChunk({ workPath: t.workPath, fd, direct: t.direct, buf: t.buf, len: got, position: pos, hashes: t.hashes, ...(last ? { final: t.final } : {}) });
      if (r.error !== undefined) return r; // putChunk removed the work file
      fd = r.fd;
      pos += got;
      if (last) return { fd: -1, position: pos, ...(r.done ? { done: r.done } : {}) };
      if (pos >= stop) return { fd, position: pos };
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(fd, t.workPath, e.code ?? 'EIO', e.message);
  }
}

function fail(fd: number, workPath: string, error: string, message: string): CopyRangeResult {
  if (fd >= 0) fs.closeSync(fd);
  fs.rmSync(workPath, { force: true });
  return { fd: -1, error, message };
}
