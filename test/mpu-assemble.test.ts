// The multipart assembly tasks called directly (no pool, no server): parts streamed into a work file in
// stretches with the bucket checksum and each part's CRC32C continued across calls, a damaged part
// detected, and the finish step publishing data and LOM in one rename.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { mpuCopy, mpuFinish } from '../src/workers/mpu-assemble';
import { hashInit, hashUpdate, hashDigest, type HashKind } from '../src/native';
import { loadLomPath } from '../src/fs/lom';
import type { HashSlot } from '../src/workers/put-chunk';

function slot(kind: HashKind): HashSlot {
  const init = hashInit(kind);
  const state = new Uint8Array(new SharedArrayBuffer(init.length));
  state.set(init);
  return { kind, state };
}

function digestOf(kind: HashKind, data: Uint8Array): string {
  const s = hashInit(kind);
  hashUpdate(kind, s, data);
  return hashDigest(kind, s);
}

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-mpu-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('parts copied in stretches: bytes, bucket checksum and part CRC32C', (t) => {
  const dir = tmpdir(t);
  const parts = [randomBytes(3 * 1024 * 1024 + 17), randomBytes(0), randomBytes(1000)];
  parts.forEach((p, i) => fs.writeFileSync(path.join(dir, `part.${i + 1}`), p));
  const work = path.join(dir, 'work');
  const fd = fs.openSync(work, 'w');
  const bucket = slot('xxhash');
  let pos = 0;
  parts.forEach((p, i) => {
    const crc = slot('crc32c');
    const stretch = 1024 * 1024 + 5; // not a multiple of the 1 MiB piece
    for (let off = 0; off < p.length || (off === 0 && p.length === 0); off += stretch) {
      const len = Math.min(stretch, p.length - off);
      const last = off + len >= p.length;
      const r = mpuCopy({ fd, partPath: path.join(dir, `part.${i + 1}`), srcOff: off, len, dstPos: pos + off, hashes: [bucket, crc], ...(last ? { expectCrc: digestOf('crc32c', p) } : {}) });
      t.deepEqual(r, {});
      if (last) break;
    }
    pos += p.length;
  });
  const whole = Buffer.concat(parts);
  t.is(hashDigest('xxhash', bucket.state), digestOf('xxhash', whole));

  const dst = path.join(dir, 'obj', 'sub', 'final');
  const lom = { size: whole.length, cksumType: 'xxhash' as const, cksumValue: hashDigest('xxhash', bucket.state), etag: 'abc-3', mtime: 1 };
  t.deepEqual(mpuFinish({ fd, workPath: work, dst, lom, fsync: true }), {});
  t.false(fs.existsSync(work));
  t.is(createHash('sha256').update(fs.readFileSync(dst)).digest('hex'), createHash('sha256').update(whole).digest('hex'));
  t.like(loadLomPath(dst), { size: whole.length, etag: 'abc-3', cksumValue: lom.cksumValue });
});

test('a damaged or short part is reported, not copied silently', (t) => {
  const dir = tmpdir(t);
  const p = randomBytes(5000);
  const file = path.join(dir, 'part.1');
  fs.writeFileSync(file, p);
  const fd = fs.openSync(path.join(dir, 'work'), 'w');
  t.teardown(() => fs.closeSync(fd));
  const good = digestOf('crc32c', p);
  p[100] ^= 1;
  fs.writeFileSync(file, p);
  t.is(mpuCopy({ fd, partPath: file, srcOff: 0, len: p.length, dstPos: 0, hashes: [slot('crc32c')], expectCrc: good }).error, 'ECORRUPT');
  t.is(mpuCopy({ fd, partPath: file, srcOff: 0, len: p.length + 1, dstPos: 0, hashes: [slot('crc32c')] }).error, 'ECORRUPT');
  t.is(mpuCopy({ fd, partPath: path.join(dir, 'gone'), srcOff: 0, len: 1, dstPos: 0, hashes: [slot('crc32c')] }).error, 'ENOENT');
});

test('finish onto a folder is a name conflict and removes the work file', (t) => {
  const dir = tmpdir(t);
  const work = path.join(dir, 'work');
  const fd = fs.openSync(work, 'w');
  fs.mkdirSync(path.join(dir, 'taken', 'child'), { recursive: true });
  const r = mpuFinish({ fd, workPath: work, dst: path.join(dir, 'taken'), lom: { size: 0, cksumType: 'none', cksumValue: '', mtime: 1 }, fsync: false });
  t.is(r.error, 'ENAMECONFLICT');
  t.false(fs.existsSync(work));
});
