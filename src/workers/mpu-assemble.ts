// Piscina tasks of a multipart completion. mpuCopy streams one stretch of one part into the object's work
// file in 1 MiB pieces, advancing the object's bucket checksum and the part's own CRC32C (checked against
// what was stored when the part arrived) in the same pass; mpuFinish writes the LOM, fsyncs and renames
// the work file into place. The tasks of one completion run one at a time, in order: the hash states live
// in a SharedArrayBuffer, so whichever worker runs the next task continues them. Expected failures come
// back as `{ error }` (thrown errors lose their code crossing threads).
import fs from 'node:fs';
import { writeHashSync, hashDigest } from '../native';
import { writeLomFd, type Lom } from '../fs/lom';
import { publish, type HashSlot } from './put-chunk';

const PIECE = 1 << 20;
/** One per worker thread, reused by every task it runs. */
let piece: Buffer | undefined;

export interface MpuCopyTask {
  /** The work file, opened by the caller; stays open across tasks. */
  fd: number;
  partPath: string;
  /** Bytes [srcOff, srcOff + len) of the part go to dstPos in the work file. */
  srcOff: number;
  len: number;
  dstPos: number;
  /** Bucket checksum state (if any), then the part's CRC32C state. */
  hashes: HashSlot[];
  /** On the part's last stretch: the CRC32C stored with the part, checked after the copy. */
  expectCrc?: string;
}

export interface MpuTaskResult {
  error?: string;
  message?: string;
}

export function mpuCopy(t: MpuCopyTask): MpuTaskResult {
  piece ??= Buffer.allocUnsafe(PIECE);
  let src = -1;
  try {
    src = fs.openSync(t.partPath, fs.constants.O_RDONLY);
    let done = 0;
    while (done < t.len) {
      const want = Math.min(PIECE, t.len - done);
      let got = 0;
      while (got < want) {
        const n = fs.readSync(src, piece, got, want - got, t.srcOff + done + got);
        if (n === 0) return { error: 'ECORRUPT', message: `${t.partPath} is shorter than recorded` };
        got += n;
      }
      writeHashSync(t.fd, piece.subarray(0, want), t.dstPos + done, t.hashes);
      done += want;
    }
    if (t.expectCrc !== undefined) {
      const crc = t.hashes[t.hashes.length - 1]!;
      const got = hashDigest(crc.kind, crc.state);
      if (got !== t.expectCrc) return { error: 'ECORRUPT', message: `${t.partPath}: crc32c ${got}, stored ${t.expectCrc}` };
    }
    return {};
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { error: e.code ?? 'EIO', message: e.message };
  } finally {
    if (src >= 0) fs.closeSync(src);
  }
}

export interface MpuFinishTask {
  fd: number;
  workPath: string;
  dst: string;
  lom: Lom;
  fsync: boolean;
}

/** LOM xattr -> fsync -> close -> rename over the object. The fd is closed whatever happens. */
export function mpuFinish(t: MpuFinishTask): MpuTaskResult {
  let fd = t.fd;
  try {
    writeLomFd(fd, t.lom);
    if (t.fsync) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = -1;
    const err = publish(t.workPath, t.dst);
    if (err) {
      fs.rmSync(t.workPath, { force: true });
      return { error: err, message: `cannot store object: ${err}` };
    }
    return {};
  } catch (err) {
    if (fd >= 0) fs.closeSync(fd);
    fs.rmSync(t.workPath, { force: true });
    const e = err as NodeJS.ErrnoException;
    return { error: e.code ?? 'EIO', message: e.message };
  }
}

