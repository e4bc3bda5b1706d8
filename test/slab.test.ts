// The PUT slab (src/target/slab.ts): slots 4096-aligned, lowest free slot first, given back and taken
// again, shared by two views of one SharedArrayBuffer as by two HTTP threads, a buffer of its own when
// every slot is taken (and that one not taken into the slab), and a worker writing a slot in place.
import test from 'ava';
import { Worker } from 'node:worker_threads';
import { PutSlab } from '../src/target/slab';
import { alignOffset } from '../src/native';

const SIZE = 64 * 1024;

test('slots are aligned, distinct, lowest free first; given back, taken again', (t) => {
  const s = new PutSlab(SIZE, 4);
  const bufs = [s.get(), s.get(), s.get()];
  const base = alignOffset(s.sab);
  for (const b of bufs) {
    t.is(b.buffer, s.sab);
    t.is(b.length, SIZE);
    t.is((b.byteOffset - base) % 4096, 0, 'a 4096-aligned address');
  }
  t.is(new Set(bufs.map((b) => b.byteOffset)).size, 3);
  t.is(s.inUse, 3);
  s.put(bufs[1]!);
  t.is(s.get().byteOffset, bufs[1]!.byteOffset, 'the freed middle slot comes back first');
  t.is(s.inUse, 3);
});

test('two views of one slab (two threads) never hand out the same slot', (t) => {
  const a = new PutSlab(SIZE, 8);
  const b = new PutSlab(SIZE, 8, a.sab);
  const got = [a.get(), b.get(), a.get(), b.get()];
  t.is(new Set(got.map((x) => x.byteOffset)).size, 4);
  b.put(got[0]!.subarray(0)); // a view of the same slot, made elsewhere: same memory, same offset
  t.is(a.inUse, 3);
});

test('when every slot is taken: a buffer of its own, which put() lets go', (t) => {
  const s = new PutSlab(SIZE, 2);
  s.get();
  s.get();
  const extra = s.get();
  t.not(extra.buffer, s.sab);
  t.true(extra.buffer instanceof SharedArrayBuffer);
  t.is(s.overflow, 1);
  s.put(extra);
  t.is(s.inUse, 2);
});

test('a worker thread writes a slot in place', async (t) => {
  const s = new PutSlab(SIZE, 2);
  const b = s.get();
  const w = new Worker('const { workerData, parentPort } = require("node:worker_threads"); workerData.fill(7); parentPort.postMessage(0);', { eval: true, workerData: b });
  await new Promise((resolve) => w.once('message', resolve));
  await w.terminate();
  t.true(b.every((x) => x === 7));
});
