// CRC-32 (IEEE), CRC-64/NVME and SHA-1 of the addon (S3 flexible checksums): published check values,
// S3's documented examples, zlib's crc32 on many lengths and alignments, streaming, and a quick speed line.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { hashDigest, hashDigestBytes, hashInit, hashUpdate, type HashKind } from '../src/native/index';

function oneShot(kind: HashKind, data: Uint8Array): string {
  const st = hashInit(kind);
  hashUpdate(kind, st, data);
  return hashDigest(kind, st);
}

const CHECK = Buffer.from('123456789');

test('check values of "123456789" (CRC catalogue / NVMe spec)', (t) => {
  t.is(oneShot('crc32', CHECK), 'cbf43926');
  t.is(oneShot('crc64nvme', CHECK), 'ae8b14860a799888');
  t.is(oneShot('sha1', CHECK), 'f7c3bc1d808e04732adf679965ccc34ca7ae3441');
  t.is(oneShot('crc32c', CHECK), 'e3069283');
});

test('empty input: CRCs are 0, SHA-1 is the empty digest', (t) => {
  t.is(oneShot('crc32', new Uint8Array(0)), '00000000');
  t.is(oneShot('crc64nvme', new Uint8Array(0)), '0000000000000000');
  t.is(oneShot('sha1', new Uint8Array(0)), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
});

test('more CRC-64/NVME vectors: 4 KiB of zeros / of 0xff / incrementing (NVMe spec test cases)', (t) => {
  // NVM Command Set spec, CRC-64 test cases (4 KiB blocks).
  t.is(oneShot('crc64nvme', Buffer.alloc(4096, 0)), '6482d367eb22b64e');
  t.is(oneShot('crc64nvme', Buffer.alloc(4096, 0xff)), 'c0ddba7302eca3ac');
  const inc = Buffer.alloc(4096);
  for (let i = 0; i < inc.length; i++) inc[i] = i & 0xff;
  t.is(oneShot('crc64nvme', inc), '3e729f5f6750449c');
});

test('S3 base64 form: digest bytes big-endian', (t) => {
  // "Hello world" as in the S3 docs' examples of checksum values.
  const data = Buffer.from('Hello world');
  const crc = zlib.crc32(data) >>> 0;
  const be = Buffer.alloc(4);
  be.writeUInt32BE(crc);
  const st = hashInit('crc32');
  hashUpdate('crc32', st, data);
  t.deepEqual(hashDigestBytes('crc32', st), be);
  t.is(hashDigestBytes('crc32', st).toString('base64'), be.toString('base64'));
});

test('CRC-32 equals zlib.crc32 on many lengths and alignments; SHA-1 equals node:crypto', (t) => {
  const big = randomBytes((1 << 20) + 64);
  for (const n of [1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 255, 256, 1000, 4096, 65537, 1 << 20]) {
    for (const off of [0, 1, 3, 5, 8]) {
      const d = big.subarray(off, off + n);
      t.is(oneShot('crc32', d), (zlib.crc32(d) >>> 0).toString(16).padStart(8, '0'), `crc32 ${n}@${off}`);
      if (off === 1) t.is(oneShot('sha1', d), createHash('sha1').update(d).digest('hex'), `sha1 ${n}`);
    }
  }
});

test('streaming in odd pieces equals one shot', (t) => {
  const data = randomBytes(300_001);
  for (const kind of ['crc32', 'crc64nvme', 'sha1'] as const) {
    const want = oneShot(kind, data);
    for (const piece of [1, 7, 9, 15, 17, 4097]) {
      const st = hashInit(kind);
      const d = piece === 1 ? data.subarray(0, 5000) : data;
      for (let off = 0; off < d.length; off += piece) hashUpdate(kind, st, d.subarray(off, off + piece));
      t.is(hashDigest(kind, st), piece === 1 ? oneShot(kind, d) : want, `${kind} pieces of ${piece}`);
    }
  }
});

test('speed (informative): GB/s over 64 MiB', (t) => {
  const buf = randomBytes(64 << 20);
  const line: string[] = [];
  for (const kind of ['crc32', 'crc64nvme', 'crc32c', 'sha1'] as const) {
    const st = hashInit(kind);
    hashUpdate(kind, st, buf.subarray(0, 1 << 20)); // warm
    const t0 = process.hrtime.bigint();
    hashUpdate(kind, st, buf);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    line.push(`${kind} ${(buf.length / s / 1e9).toFixed(2)} GB/s`);
  }
  t.log(line.join(', '));
  t.pass();
});

test('folded (PCLMUL, pieces of 256 B and more) and table paths agree on every length and alignment', (t) => {
  const big = randomBytes(5000);
  for (const kind of ['crc32', 'crc64nvme'] as const) {
    for (let n = 250; n < 1200; n += 7) {
      for (const off of [0, 3, 8, 13]) {
        const d = big.subarray(off, off + n);
        const bytewise = hashInit(kind);
        for (let i = 0; i < d.length; i += 100) hashUpdate(kind, bytewise, d.subarray(i, i + 100)); // pieces < 256: tables only
        t.is(oneShot(kind, d), hashDigest(kind, bytewise), `${kind} ${n}@${off}`);
      }
    }
  }
});
