// Piscina task: write one buffer of a PUT body at its offset while updating the object's checksums, and,
// on the last buffer, finalize: digests -> LOM xattr -> fsync -> close -> rename into place.
// The hash states live in a SharedArrayBuffer owned by the upload, so whichever worker runs the next
// buffer continues the same hashes. Expected failures come back as `{ error }` (a code): thrown errors
// lose their `code` when cloned across threads.
import fs from 'node:fs';
import path from 'node:path';
import { writeHashSync, setDirect, hashDigest, hashDigestBytes, type HashKind } from '../native';
import { badDigestMessage, type FlexAlg } from '../s3/checksums';
import { writeLomFd, type Lom } from '../fs/lom';
import { checkAndPublish, type PublishCondition } from '../target/conditions';

export interface HashSlot {
  kind: HashKind;
  /** View on the upload's SharedArrayBuffer of hash states. */
  state: Uint8Array;
}

export interface PutFinal {
  dst: string;
  /** LOM fields known before the body: everything but size and digests. */
  lom: Omit<Lom, 'size' | 'cksumValue' | 'md5'>;
  /** Index in `hashes` of the bucket checksum (-1: none) and of the MD5 for the ETag (-1: none). */
  cksumSlot: number;
  md5Slot: number;
  /** Keep the MD5 in the LOM (for the ETag); false when it was computed only to check Content-MD5. */
  storeMd5: boolean;
  /** Hex MD5 the client sent in Content-MD5: a mismatch discards the upload (BadDigest). */
  expectMd5?: string;
  /** x-amz-content-sha256 (hex) and the slot of the sha256 in `hashes`: a mismatch discards the upload. */
  expectSha256?: { slot: number; value: string };
  /** Hex bucket checksum the client sent (native Ais-Checksum-Value): a mismatch discards the upload (BadDigest). */
  expectCksum?: string;
  fsync: boolean;
  /** Conditional write (If-None-Match: * / If-Match): checked right before the object is published. */
  cond?: PublishCondition;
  /** S3 flexible checksum: its slot in `hashes`, and the base64 value the client sent (BadDigest if it differs). */
  flex?: { slot: number; alg: FlexAlg; expected?: string };
  /** Rebalance/resilver: the object's own LOM, stored as it is once size and checksum (or MD5) match. */
  keep?: Lom;
}

export interface PutChunkTask {
  workPath: string;
  /** -1 on the first buffer: the task creates the work file. */
  fd: number;
  direct: boolean;
  buf: Uint8Array;
  len: number;
  position: number;
  hashes: HashSlot[];
  final?: PutFinal;
}

export type PutChunkResult =
  | { fd: number; done?: { lom: Lom }; error?: undefined }
  | { fd: number; error: string; message: string };

export function putChunk(t: PutChunkTask): PutChunkResult {
  let fd = t.fd;
  try {
    if (fd < 0) fd = fs.openSync(t.workPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (t.direct ? fs.constants.O_DIRECT : 0), 0o644);
    if (t.len > 0) {
      const data = t.buf.subarray(0, t.len);
      // O_DIRECT needs block-aligned lengths: the tail of the object goes through the page cache.
      if (t.direct && t.len % 4096 !== 0) setDirect(fd, false);
      writeHashSync(fd, data, t.position, t.hashes);
    }
    if (!t.final) return { fd };
    const f = t.final;
    const size = t.position + t.len;
    const lom: Lom = { ...f.lom, size, cksumValue: f.cksumSlot < 0 ? '' : hashDigest(t.hashes[f.cksumSlot].kind, t.hashes[f.cksumSlot].state) };
    const md5 = f.md5Slot >= 0 ? hashDigest('md5', t.hashes[f.md5Slot].state) : undefined;
    if (f.expectMd5 !== undefined && md5 !== f.expectMd5) {
      fs.closeSync(fd);
      fd = -1;
      fs.rmSync(t.workPath, { force: true });
      return { fd: -1, error: 'BadDigest', message: `Content-MD5 ${f.expectMd5} does not match the body's MD5 ${md5}` };
    }
    if (f.expectSha256 !== undefined) {
      const sha = hashDigest('sha256', t.hashes[f.expectSha256.slot].state);
      if (sha !== f.expectSha256.value) {
        fs.closeSync(fd);
        fd = -1;
        fs.rmSync(t.workPath, { force: true });
        return { fd: -1, error: 'XAmzContentSHA256Mismatch', message: `The provided 'x-amz-content-sha256' header (${f.expectSha256.value}) does not match what was computed (${sha}).` };
      }
    }
    if (f.expectCksum !== undefined && lom.cksumValue !== f.expectCksum) {
      fs.closeSync(fd);
      fd = -1;
      fs.rmSync(t.workPath, { force: true });
      return { fd: -1, error: 'BadDigest', message: `${lom.cksumType} checksum ${f.expectCksum} does not match the body's ${lom.cksumValue}` };
    }
    if (f.keep && (size !== f.keep.size || (f.keep.cksumType !== 'none' && lom.cksumValue !== f.keep.cksumValue))) {
      fs.closeSync(fd);
      fd = -1;
      fs.rmSync(t.workPath, { force: true });
      return { fd: -1, error: 'BadDigest', message: `moved object: size ${size}, ${lom.cksumType} ${lom.cksumValue}; expected ${f.keep.size}, ${f.keep.cksumValue}` };
    }
    if (f.flex) {
      const value = hashDigestBytes(f.flex.alg, t.hashes[f.flex.slot].state).toString('base64');
      if (f.flex.expected !== undefined && value !== f.flex.expected) {
        fs.closeSync(fd);
        fd = -1;
        fs.rmSync(t.workPath, { force: true });
        return { fd: -1, error: 'BadDigest', message: badDigestMessage(f.flex.alg) };
      }
      lom.flex = { alg: f.flex.alg, value, type: 'FULL_OBJECT' };
    }
    if (md5 !== undefined && f.storeMd5) lom.md5 = md5;
    const stored = f.keep ?? lom; // a rebalanced object keeps the LOM it came with
    writeLomFd(fd, stored);
    if (f.fsync) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = -1;
    if (f.cond) {
      const bad = checkAndPublish(t.workPath, f.dst, f.cond, publish);
      if (bad) {
        fs.rmSync(t.workPath, { force: true });
        return { fd: -1, ...bad };
      }
      return { fd: -1, done: { lom: stored } };
    }
    const err = publish(t.workPath, f.dst);
    if (err) {
      fs.rmSync(t.workPath, { force: true });
      return { fd: -1, error: err, message: `cannot store object: ${err}` };
    }
    return { fd: -1, done: { lom: stored } };
  } catch (err) {
    if (fd >= 0) fs.closeSync(fd);
    fs.rmSync(t.workPath, { force: true });
    const e = err as NodeJS.ErrnoException;
    return { fd: -1, error: e.code ?? 'EIO', message: e.message };
  }
}

/** Renames the complete work file over the object. A concurrent DELETE may remove the parent folder
 *  between mkdir and rename (it prunes empty folders): retry a few times. */
export function publish(work: string, dst: string): string | undefined {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.renameSync(work, dst);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'ENOENT' && attempt < 5) continue;
      // A folder where the object goes, or an object where a folder must go ("a" vs "a/b").
      if (code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOTEMPTY') return 'ENAMECONFLICT';
      return code;
    }
  }
}
