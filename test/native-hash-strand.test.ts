// Hash strands (native/hash_strand.cc): in-order streaming hashes on the addon's own threads.
// Digests against node:crypto and one-shot hashes, many strands at once, drop(), a worker thread
// exiting with work queued, and collection of idle strands (no leak through the callback).
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';

import { hashDigest, hashInit, hashStrand, xxh64, type HashKind } from '../src/native/index';

const NATIVE_JS = path.join(__dirname, '../src/native/index.js');

interface Run {
  digests: Record<string, string>;
  reported: number[];
}

/** Push `bufs` through one strand (states in a SharedArrayBuffer, as PUT does) and wait for all. */
function runStrand(kinds: HashKind[], bufs: Uint8Array[]): Promise<Run> {
  const hashes = kinds.map((kind) => {
    const init = hashInit(kind);
    const state = new Uint8Array(new SharedArrayBuffer(init.length));
    state.set(init);
    return { kind, state };
  });
  return new Promise((resolve) => {
    const reported: number[] = [];
    let left = bufs.length;
    const s = hashStrand(hashes, (n) => {
      reported.push(n);
      left -= n;
      if (left === 0) resolve({ digests: Object.fromEntries(hashes.map((h) => [h.kind, hashDigest(h.kind, h.state)])), reported });
    });
    for (const b of bufs) s.push(b);
  });
}

function concat(bufs: Uint8Array[]): Buffer {
  return Buffer.concat(bufs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
}

test('MD5, SHA-256 and XXH64 of 40 buffers match node:crypto and the one-shot hash', async (t) => {
  const bufs = Array.from({ length: 40 }, (_, i) => randomBytes(i % 7 === 0 ? 1 : 65_537 * (1 + (i % 5))));
  const r = await runStrand(['md5', 'sha256', 'xxhash'], bufs);
  const all = concat(bufs);
  t.is(r.digests.md5, createHash('md5').update(all).digest('hex'));
  t.is(r.digests.sha256, createHash('sha256').update(all).digest('hex'));
  t.is(r.digests.xxhash, xxh64(all).toString(16).padStart(16, '0'));
  t.is(r.reported.reduce((a, b) => a + b, 0), 40);
  t.true(r.reported.every((n) => n >= 1 && n <= 4), `batches: ${r.reported.join(',')}`);
});

test('16 strands hashed at once each get their own, in-order digest', async (t) => {
  const sets = Array.from({ length: 16 }, () => Array.from({ length: 24 }, () => randomBytes(1 + Math.floor(Math.random() * 200_000))));
  const runs = await Promise.all(sets.map((bufs) => runStrand(['md5'], bufs)));
  runs.forEach((r, i) => t.is(r.digests.md5, createHash('md5').update(concat(sets[i])).digest('hex'), `strand ${i}`));
});

test('a buffer stays intact and referenced until it is reported, even if the caller drops it', async (t) => {
  const data = randomBytes(1 << 20);
  const expected = createHash('md5').update(data).digest('hex');
  // The pushed views are the only references left once the loop ends; a GC must not free them.
  const r = runStrand(
    ['md5'],
    Array.from({ length: 32 }, (_, i) => new Uint8Array(data.subarray(i * 32_768, (i + 1) * 32_768))),
  );
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  t.is((await r).digests.md5, expected);
});

test('drop() reports what is still queued without hashing it', async (t) => {
  const state = hashInit('md5');
  let reported = 0;
  const done = new Promise<void>((resolve) => {
    const s = hashStrand([{ kind: 'md5', state }], (n) => {
      reported += n;
      if (reported === 200) resolve();
    });
    for (let i = 0; i < 200; i++) s.push(new Uint8Array(1 << 20));
    s.drop();
  });
  await done;
  t.is(reported, 200);
  // At most the batches already taken before drop() were hashed: far from all 200 MiB.
  t.not(hashDigest('md5', state), createHash('md5').update(Buffer.alloc(200 << 20)).digest('hex'));
});

test('a worker thread that exits with buffers queued does not crash the process; strands keep working', async (t) => {
  const source = `
    const { parentPort } = require('node:worker_threads');
    const n = require(${JSON.stringify(NATIVE_JS)});
    const s = n.hashStrand([{ kind: 'sha512', state: n.hashInit('sha512') }], () => {});
    for (let i = 0; i < 64; i++) s.push(new Uint8Array(4 << 20));
    parentPort.postMessage('queued');
    process.exit(0);
  `;
  for (let round = 0; round < 3; round++) {
    const code = await new Promise<number>((resolve, reject) => {
      const w = new Worker(source, { eval: true });
      w.once('error', reject);
      w.once('exit', resolve);
    });
    t.is(code, 0);
  }
  const bufs = [randomBytes(100_000), randomBytes(3)];
  const r = await runStrand(['md5'], bufs);
  t.is(r.digests.md5, createHash('md5').update(concat(bufs)).digest('hex'));
});

test('idle strands are collected with their owner (the callback holds no strong reference)', async (t) => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  let collected = 0;
  const registry = new FinalizationRegistry(() => collected++);
  for (let i = 0; i < 50; i++) {
    const owner = { s: undefined as unknown, done: 0 };
    await new Promise<void>((resolve) => {
      const s = hashStrand([{ kind: 'xxhash', state: hashInit('xxhash') }], (n) => {
        owner.done += n; // the callback closes over its owner, as PutStream's does
        if (owner.done === 3) resolve();
      });
      owner.s = s;
      for (let k = 0; k < 3; k++) s.push(new Uint8Array(10_000));
    });
    registry.register(owner, i);
  }
  for (let i = 0; i < 20 && collected < 50; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  t.true(collected >= 45, `collected ${collected} of 50`);
});

test('bad arguments are TypeErrors, not crashes', (t) => {
  t.throws(() => hashStrand([{ kind: 'md5', state: new Uint8Array(3) }], () => {}), { instanceOf: TypeError });
  const s = hashStrand([{ kind: 'md5', state: hashInit('md5') }], () => {});
  t.throws(() => s.push('nope' as unknown as Uint8Array), { instanceOf: TypeError });
});
