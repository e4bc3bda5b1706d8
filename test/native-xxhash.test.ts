// XXH64 of the native addon: published sanity vectors, cross-checks with xxhash-wasm,
// the HRW seed, string hashing and the hex/bytes digest format.
import test from 'ava';
import { randomBytes } from 'node:crypto';

import type { XXHashAPI } from 'xxhash-wasm' with { 'resolution-mode': 'import' };

import { hashDigest, hashDigestBytes, hashInit, hashUpdate, xxh64, xxh64String } from '../src/native/index';


let wasmPromise: Promise<XXHashAPI> | undefined;
async function wasm(): Promise<XXHashAPI> {
  wasmPromise ??= import('xxhash-wasm').then((m) => m.default());
  return wasmPromise;
}

const PRIME32 = 2654435761n;
const PRIME64 = 11400714785074694797n;
const HRW_SEED = 1103515245n;
const MASK64 = (1n << 64n) - 1n;

/** xxHash's sanity-check buffer (cli/xsum_sanity_check.c, XSUM_fillTestBuffer). */
function sanityBuffer(len: number): Uint8Array {
  const buf = new Uint8Array(len);
  let byteGen = PRIME32;
  for (let i = 0; i < len; i++) {
    buf[i] = Number(byteGen >> 56n);
    byteGen = (byteGen * PRIME64) & MASK64;
  }
  return buf;
}

// XSUM_XXH64_testdata of xxHash (cli/xsum_sanity_check.c): { len, seed, result }.
const XXH64_VECTORS: ReadonlyArray<[number, bigint, bigint]> = [
  [0, 0n, 0xef46db3751d8e999n],
  [0, PRIME32, 0xac75fda2929b17efn],
  [1, 0n, 0xe934a84adb052768n],
  [1, PRIME32, 0x5014607643a9b4c3n],
  [4, 0n, 0x9136a0dca57457een],
  [14, 0n, 0x8282dcc4994e35c8n],
  [14, PRIME32, 0xc3bd6bf63deb6df0n],
  [222, 0n, 0xb641ae8cb691c174n],
  [222, PRIME32, 0x20cb8ab7ae10c14an],
];

const hex64 = (v: bigint): string => v.toString(16).padStart(16, '0');

test('XXH64 matches xxHash sanity-check vectors (one-shot, streaming, byte-by-byte)', (t) => {
  const buf = sanityBuffer(222);
  for (const [len, seed, expected] of XXH64_VECTORS) {
    const data = buf.subarray(0, len);
    t.is(xxh64(data, seed), expected, `len ${len} seed ${seed}`);
    if (seed === 0n) {
      // The streaming state (hashInit) is XXH64 with seed 0, like AIStore's checksum.
      t.is(xxh64(data), expected);
      const whole = hashInit('xxhash');
      hashUpdate('xxhash', whole, data);
      t.is(hashDigest('xxhash', whole), hex64(expected), `stream len ${len}`);
      const bytewise = hashInit('xxhash');
      for (let i = 0; i < len; i++) hashUpdate('xxhash', bytewise, data.subarray(i, i + 1));
      t.is(hashDigest('xxhash', bytewise), hex64(expected), `byte-by-byte len ${len}`);
    }
  }
});

test('XXH64 equals xxhash-wasm on random buffers of many lengths and seeds', async (t) => {
  const w = await wasm();
  const lengths: number[] = [];
  for (let n = 0; n <= 300; n++) lengths.push(n);
  lengths.push(511, 512, 513, 1000, 4095, 4096, 4097, 65536 + 7, (1 << 20) + 13);
  const seeds = [0n, 1n, PRIME32, HRW_SEED, MASK64, BigInt('0x' + randomBytes(8).toString('hex'))];
  for (const n of lengths) {
    const data = randomBytes(n + 3).subarray(3); // odd offset: unaligned loads
    for (const seed of seeds) {
      const expected = w.h64Raw(data, seed);
      if (xxh64(data, seed) !== expected) {
        t.fail(`length ${n} seed ${seed}: ${xxh64(data, seed)} != ${expected}`);
        return;
      }
    }
    const st = hashInit('xxhash');
    hashUpdate('xxhash', st, data);
    t.is(hashDigest('xxhash', st), hex64(w.h64Raw(data, 0n)), `digest length ${n}`);
  }
  t.pass();
});

test('HRW seed 1103515245: xxh64 / xxh64String equal xxhash-wasm', async (t) => {
  const w = await wasm();
  const keys = ['', 'a', 'ais://bucket/obj', 't[abcd1234]', 'p[proxy-1]', 'bck/dir/sub/object-000123.tar', 'x'.repeat(1000)];
  for (const k of keys) {
    const expected = w.h64(k, HRW_SEED);
    t.is(xxh64String(k, HRW_SEED), expected, k.slice(0, 40));
    t.is(xxh64(Buffer.from(k), HRW_SEED), expected);
  }
});

test('xxh64String hashes the UTF-8 bytes (multi-byte chars, lone surrogates, stack-buffer boundary)', async (t) => {
  const w = await wasm();
  const samples: string[] = ['héllo', '日本語のオブジェクト名', '🙂 emoji 🚀', 'lone \ud800 surrogate', 'nul\u0000inside'];
  // Around the 512-byte stack buffer of the addon, with chars of 1..4 UTF-8 bytes at the end.
  for (let n = 495; n <= 520; n++) {
    for (const tail of ['a', 'é', '日', '🙂']) samples.push('x'.repeat(n) + tail + tail);
  }
  samples.push('ü'.repeat(100_000));
  for (const s of samples) {
    const utf8 = Buffer.from(s, 'utf8');
    t.is(xxh64String(s), xxh64(utf8), `length ${s.length}`);
    t.is(xxh64String(s, HRW_SEED), w.h64Raw(utf8, HRW_SEED), `length ${s.length}`);
  }
});

test('xxhash hex digest is 16 lowercase hex digits of the value (big-endian, zero-padded); bytes are big-endian', (t) => {
  // Find inputs whose hash is below 2^60 so the padding is exercised.
  let padded = 0;
  for (let i = 0; padded < 3 && i < 10_000; i++) {
    const data = Buffer.from(`obj-${i}`);
    const v = xxh64(data);
    const st = hashInit('xxhash');
    hashUpdate('xxhash', st, data);
    const hex = hashDigest('xxhash', st);
    t.regex(hex, /^[0-9a-f]{16}$/);
    t.is(hex, v.toString(16).padStart(16, '0'));
    const bytes = hashDigestBytes('xxhash', st);
    t.is(bytes.length, 8);
    t.is(bytes.readBigUInt64BE(0), v);
    if (v < 1n << 60n) padded++;
  }
  t.is(padded, 3);
});

test('xxh64 seed validation', (t) => {
  const data = Buffer.from('abc');
  t.throws(() => xxh64(data, -1n), { instanceOf: RangeError });
  t.throws(() => xxh64(data, 1n << 64n), { instanceOf: RangeError });
  t.throws(() => xxh64String('abc', 5 as unknown as bigint), { instanceOf: TypeError });
  t.throws(() => xxh64('abc' as unknown as Uint8Array), { instanceOf: TypeError });
  t.throws(() => xxh64String(42 as unknown as string), { instanceOf: TypeError });
  t.is(xxh64(data, MASK64), xxh64(data, MASK64));
});
