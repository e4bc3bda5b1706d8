// Streaming hash states of the native addon: MD5/SHA-2 against node:crypto, CRC-32C against
// published vectors and a bitwise reference, chunking, copying states, continuing them in a
// worker thread or inside a SharedArrayBuffer, and argument errors.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import {
  HASH_KINDS,
  type HashKind,
  hashDigest,
  hashDigestBytes,
  hashInit,
  hashUpdate,
  xxh64,
} from '../src/native/index';

const NATIVE_JS = path.join(__dirname, '../src/native/index.js');

/** Bit-at-a-time CRC-32C (reflected 0x82F63B78): slow and obviously right. */
function crc32cReference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Bit-at-a-time CRC-32 (reflected 0xEDB88320). */
function crc32Reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-64/NVME a byte at a time, with a table built bit by bit from the reflected polynomial. */
const CRC64_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = BigInt(n);
  for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ 0x9a6c9329ac4bc9b5n : c >> 1n;
  return c;
});
function crc64nvmeReference(data: Uint8Array): bigint {
  const mask = (1n << 64n) - 1n;
  let c = mask;
  for (const byte of data) c = CRC64_TABLE[Number((c ^ BigInt(byte)) & 0xffn)]! ^ (c >> 8n);
  return c ^ mask;
}

/** Reference digest (hex) of `data` for every kind. */
function reference(kind: HashKind, data: Uint8Array): string {
  switch (kind) {
    case 'md5':
    case 'sha1':
    case 'sha256':
    case 'sha512':
      return createHash(kind).update(data).digest('hex');
    case 'crc32':
      return crc32Reference(data).toString(16).padStart(8, '0');
    case 'crc64nvme':
      return crc64nvmeReference(data).toString(16).padStart(16, '0');
    case 'crc32c':
      return crc32cReference(data).toString(16).padStart(8, '0');
    case 'xxhash':
      return xxh64(data).toString(16).padStart(16, '0'); // checked against vectors in native-xxhash
  }
}

function oneShot(kind: HashKind, data: Uint8Array): string {
  const st = hashInit(kind);
  hashUpdate(kind, st, data);
  return hashDigest(kind, st);
}

test('HASH_KINDS lists the kinds, new ones appended (ids are positions)', (t) => {
  t.deepEqual([...HASH_KINDS], ['xxhash', 'md5', 'sha256', 'sha512', 'crc32c', 'crc32', 'crc64nvme', 'sha1']);
});

test('MD5 / SHA-256 / SHA-512 equal node:crypto (hex and bytes) on many lengths', (t) => {
  const lengths = [0, 1, 3, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 4096, 65537, (1 << 20) + 5];
  for (const kind of ['md5', 'sha256', 'sha512'] as const) {
    for (const n of lengths) {
      const data = randomBytes(n + 1).subarray(1);
      const st = hashInit(kind);
      hashUpdate(kind, st, data);
      const expected = createHash(kind).update(data).digest();
      t.is(hashDigest(kind, st), expected.toString('hex'), `${kind} length ${n}`);
      t.deepEqual(hashDigestBytes(kind, st), expected, `${kind} bytes length ${n}`);
    }
  }
});

test('CRC-32C known vectors: "123456789" and RFC 3720 B.4 patterns', (t) => {
  const vectors: ReadonlyArray<[Uint8Array, string]> = [
    [new Uint8Array(0), '00000000'],
    [Buffer.from('123456789'), 'e3069283'],
    [new Uint8Array(32), '8a9136aa'],
    [new Uint8Array(32).fill(0xff), '62a8ab43'],
    [Uint8Array.from({ length: 32 }, (_, i) => i), '46dd794e'],
    [Uint8Array.from({ length: 32 }, (_, i) => 31 - i), '113fdb5c'],
  ];
  for (const [data, expected] of vectors) {
    t.is(oneShot('crc32c', data), expected);
    t.is(crc32cReference(data).toString(16).padStart(8, '0'), expected, 'reference implementation');
    const st = hashInit('crc32c');
    hashUpdate('crc32c', st, data);
    t.is(hashDigestBytes('crc32c', st).toString('hex'), expected, 'bytes are big-endian');
  }
  // S3 x-amz-checksum-crc32c is the base64 of the big-endian bytes.
  const st = hashInit('crc32c');
  hashUpdate('crc32c', st, Buffer.from('123456789'));
  t.is(hashDigestBytes('crc32c', st).toString('base64'), Buffer.from('e3069283', 'hex').toString('base64'));
});

// Lengths around the addon's 3-way blocks (3 x 8 KiB and 3 x 256 B) and 8-byte words.
const CRC_LENGTHS = [
  ...Array.from({ length: 80 }, (_, i) => i),
  255, 256, 257, 767, 768, 769, 1000, 1536 + 7, 8191, 8192, 24575, 24576, 24577, 2 * 24576 + 768 + 13, 100_003,
];

test('CRC-32C equals a bitwise reference for many lengths and unaligned starts', (t) => {
  for (const n of CRC_LENGTHS) {
    for (const offset of [0, 1, 3, 7]) {
      const data = randomBytes(n + offset).subarray(offset);
      const got = oneShot('crc32c', data);
      const expected = reference('crc32c', data);
      if (got !== expected) {
        t.fail(`length ${n} offset ${offset}: ${got} != ${expected}`);
        return;
      }
    }
  }
  t.pass();
});

test('CRC-32C portable slicing-by-8 path (TAIS_CRC32C_SOFTWARE=1 in a child process) equals the reference', (t) => {
  // The dispatch is chosen once when the addon loads, so the forced-software path needs its own process.
  const seedData = randomBytes(2 * 24576 + 1000);
  const script = `
    const native = require(${JSON.stringify(NATIVE_JS)});
    const data = Buffer.from(process.argv[1], 'base64');
    const lengths = JSON.parse(process.argv[2]);
    const out = [];
    for (const n of lengths) for (const off of [0, 1, 5]) {
      const st = native.hashInit('crc32c');
      native.hashUpdate('crc32c', st, data.subarray(off, off + n));
      out.push(native.hashDigest('crc32c', st));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const lengths = CRC_LENGTHS.filter((n) => n + 5 <= seedData.length);
  const stdout = execFileSync(process.execPath, ['-e', script, seedData.toString('base64'), JSON.stringify(lengths)], {
    env: { ...process.env, TAIS_CRC32C_SOFTWARE: '1' },
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const got = JSON.parse(stdout) as string[];
  const expected: string[] = [];
  for (const n of lengths) for (const off of [0, 1, 5]) expected.push(reference('crc32c', seedData.subarray(off, off + n)));
  t.deepEqual(got, expected);
});

test('streaming in odd chunk sizes equals one-shot, for every kind', (t) => {
  const big = randomBytes(200_003);
  const chunkSizes = [1, 3, 7, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097, 65535, 65537];
  for (const kind of HASH_KINDS) {
    for (const size of chunkSizes) {
      const data = size < 64 ? big.subarray(0, 20_011) : big;
      const st = hashInit(kind);
      for (let off = 0; off < data.length; off += size) hashUpdate(kind, st, data.subarray(off, off + size));
      t.is(hashDigest(kind, st), reference(kind, data), `${kind} chunks of ${size}`);
    }
    // Irregular chunks, including empty updates.
    const st = hashInit(kind);
    let off = 0;
    for (let i = 0; off < big.length; i++) {
      const n = (i * 7919) % 9000;
      hashUpdate(kind, st, big.subarray(off, off + n));
      off += n;
    }
    t.is(hashDigest(kind, st), reference(kind, big), `${kind} irregular chunks`);
  }
});

test('a state copied mid-stream (Uint8Array.slice) continues independently', (t) => {
  const a = randomBytes(100_001);
  const b = randomBytes(77_777);
  const c = randomBytes(5);
  for (const kind of HASH_KINDS) {
    const st = hashInit(kind);
    hashUpdate(kind, st, a);
    const copy = st.slice();
    hashUpdate(kind, st, b);
    hashUpdate(kind, copy, b);
    t.is(hashDigest(kind, copy), hashDigest(kind, st), kind);
    t.is(hashDigest(kind, st), reference(kind, Buffer.concat([a, b])), kind);
    hashUpdate(kind, copy, c); // diverge: the original is not affected
    t.is(hashDigest(kind, st), reference(kind, Buffer.concat([a, b])), kind);
    t.is(hashDigest(kind, copy), reference(kind, Buffer.concat([a, b, c])), kind);
  }
});

function runWorker<T>(source: string, workerData: unknown, transferList: ArrayBuffer[] = []): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData, transferList });
    w.once('message', (m: T) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
}

test('a state posted to a worker_threads Worker is continued there and gives the same digest', async (t) => {
  const first = randomBytes(300_007);
  const second = randomBytes(123_457);
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const native = require(${JSON.stringify(NATIVE_JS)});
    const out = {};
    for (const { kind, state, rest } of workerData.jobs) {
      native.hashUpdate(kind, state, rest);
      out[kind] = native.hashDigest(kind, state);
    }
    parentPort.postMessage(out);
  `;
  const jobs = HASH_KINDS.map((kind) => {
    const st = hashInit(kind);
    hashUpdate(kind, st, first);
    return { kind, state: st.slice(), rest: second };
  });
  const digests = await runWorker<Record<string, string>>(source, { jobs });
  for (const kind of HASH_KINDS) {
    t.is(digests[kind], reference(kind, Buffer.concat([first, second])), kind);
  }
});

test('a state living in a SharedArrayBuffer (unaligned offset) is updated in place by a worker', async (t) => {
  const first = randomBytes(65_537);
  const second = randomBytes(99_999);
  const sizes = HASH_KINDS.map((k) => hashInit(k).length);
  const sab = new SharedArrayBuffer(sizes.reduce((s, n) => s + n + 3, 0) + 3);
  const views: Uint8Array[] = [];
  let off = 3; // odd offsets on purpose
  for (const [i, kind] of HASH_KINDS.entries()) {
    const view = new Uint8Array(sab, off, sizes[i]);
    view.set(hashInit(kind));
    hashUpdate(kind, view, first);
    views.push(view);
    off += sizes[i] + 3;
  }
  // Data also in a SharedArrayBuffer.
  const dataSab = new SharedArrayBuffer(second.length);
  new Uint8Array(dataSab).set(second);
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const native = require(${JSON.stringify(NATIVE_JS)});
    const data = new Uint8Array(workerData.dataSab);
    workerData.kinds.forEach((kind, i) => {
      const [o, n] = workerData.ranges[i];
      native.hashUpdate(kind, new Uint8Array(workerData.sab, o, n), data);
    });
    parentPort.postMessage('done');
  `;
  await runWorker<string>(source, {
    sab,
    dataSab,
    kinds: [...HASH_KINDS],
    ranges: views.map((v) => [v.byteOffset, v.length]),
  });
  for (const [i, kind] of HASH_KINDS.entries()) {
    t.is(hashDigest(kind, views[i]), reference(kind, Buffer.concat([first, second])), kind);
  }
});

test('hashDigest / hashDigestBytes do not mutate the state', (t) => {
  const a = randomBytes(1000);
  const b = randomBytes(333);
  for (const kind of HASH_KINDS) {
    const st = hashInit(kind);
    hashUpdate(kind, st, a);
    const before = st.slice();
    const d1 = hashDigest(kind, st);
    hashDigestBytes(kind, st);
    t.deepEqual(st, before, kind);
    t.is(hashDigest(kind, st), d1, kind);
    hashUpdate(kind, st, b);
    t.is(hashDigest(kind, st), reference(kind, Buffer.concat([a, b])), kind);
  }
});

test('empty input digests', (t) => {
  for (const kind of HASH_KINDS) t.is(hashDigest(kind, hashInit(kind)), reference(kind, new Uint8Array(0)), kind);
});

test('S3 multipart ETag from digest bytes: MD5 of the concatenated part MD5s', (t) => {
  const parts = [randomBytes(5 << 20), randomBytes(5 << 20), randomBytes(12345)];
  const etagState = hashInit('md5');
  for (const part of parts) {
    const st = hashInit('md5');
    hashUpdate('md5', st, part);
    hashUpdate('md5', etagState, hashDigestBytes('md5', st));
  }
  const expected = createHash('md5')
    .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
    .digest('hex');
  t.is(`${hashDigest('md5', etagState)}-${parts.length}`, `${expected}-3`);
});

test('data may be any view: subarray, SharedArrayBuffer view, other typed arrays and DataView (bytes)', (t) => {
  const bytes = randomBytes(4096 + 8);
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  const expected = reference('sha256', bytes.subarray(8));
  const views: Array<[string, Uint8Array]> = [
    ['subarray', bytes.subarray(8)],
    ['SharedArrayBuffer view', new Uint8Array(sab, 8)],
    ['Uint32Array', new Uint32Array(sab, 8) as unknown as Uint8Array],
    ['DataView', new DataView(sab, 8) as unknown as Uint8Array],
  ];
  for (const [name, view] of views) {
    const st = hashInit('sha256');
    hashUpdate('sha256', st, view);
    t.is(hashDigest('sha256', st), expected, name);
  }
});

test('errors: unknown kind, wrong or damaged state, bad data → TypeError', (t) => {
  const bad = 'sha3' as unknown as HashKind;
  t.throws(() => hashInit(bad), { instanceOf: TypeError, message: /unknown hash kind/ });
  t.throws(() => hashUpdate(bad, hashInit('md5'), new Uint8Array(1)), { instanceOf: TypeError });
  t.throws(() => hashDigest(bad, hashInit('md5')), { instanceOf: TypeError });
  t.throws(() => hashDigestBytes(bad, hashInit('md5')), { instanceOf: TypeError });
  t.throws(() => hashInit(undefined as unknown as HashKind), { instanceOf: TypeError });

  // A state of another kind (same size or not), truncated, or not from hashInit.
  for (const kind of HASH_KINDS) {
    for (const other of HASH_KINDS) {
      if (other === kind) continue;
      t.throws(() => hashUpdate(kind, hashInit(other), new Uint8Array(1)), { instanceOf: TypeError });
    }
    t.throws(() => hashDigest(kind, hashInit(kind).subarray(1)), { instanceOf: TypeError, message: /bad hash state/ });
    t.throws(() => hashUpdate(kind, new Uint8Array(hashInit(kind).length), new Uint8Array(1)), {
      instanceOf: TypeError,
      message: /hashInit/,
    });
  }
  t.throws(() => hashUpdate('md5', hashInit('md5'), 'text' as unknown as Uint8Array), { instanceOf: TypeError });
  t.throws(() => hashUpdate('md5', [1, 2] as unknown as Uint8Array, new Uint8Array(1)), { instanceOf: TypeError });
  t.throws(() => hashDigest('md5', new Uint16Array(52) as unknown as Uint8Array), { instanceOf: TypeError });
});
