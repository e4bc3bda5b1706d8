// Hash throughput of the native addon against node:crypto and xxhash-wasm.
//   npm run build:native && npm run build:ts && npm run bench:hash
// Every task hashes 4 MiB per iteration in streaming updates of the buffer size (1 MiB or
// 64 KiB; the buffer is in cache), with init and digest once per iteration, and reports GB/s
// (10^9 bytes per second).
import { createHash, randomBytes } from 'node:crypto';

import { type HashKind, hashDigest, hashInit, hashUpdate } from '../src/native/index';

const PER_ITERATION = 4 << 20;
const SIZES = [1 << 20, 64 << 10] as const;

interface Row {
  name: string;
  size: number;
  gbps: number;
  rme: number;
  samples: number;
}

function chunksOf(size: number): Buffer[] {
  const buf = randomBytes(size);
  return Array.from({ length: PER_ITERATION / size }, () => buf);
}

async function main(): Promise<void> {
  const { Bench } = await import('tinybench');
  const xxhashWasm = (await import('xxhash-wasm')).default;
  const wasm = await xxhashWasm();

  const time = Number(process.env.BENCH_TIME_MS ?? 1000);
  const rows: Row[] = [];
  let sink = '';

  for (const size of SIZES) {
    const chunks = chunksOf(size);
    const bench = new Bench({ time, warmupTime: 200 });
    const addon = (kind: HashKind) => () => {
      const st = hashInit(kind);
      for (const c of chunks) hashUpdate(kind, st, c);
      sink = hashDigest(kind, st);
    };
    const node = (alg: string) => () => {
      const h = createHash(alg);
      for (const c of chunks) h.update(c);
      sink = h.digest('hex');
    };
    bench
      .add('addon xxhash', addon('xxhash'))
      .add('xxhash-wasm h64', () => {
        const h = wasm.create64();
        for (const c of chunks) h.update(c);
        sink = h.digest().toString(16);
      })
      .add('addon crc32c', addon('crc32c'))
      .add('addon md5', addon('md5'))
      .add('node:crypto md5', node('md5'))
      .add('addon sha256', addon('sha256'))
      .add('node:crypto sha256', node('sha256'))
      .add('addon sha512', addon('sha512'))
      .add('node:crypto sha512', node('sha512'));
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
      rows.push({
        name: task.name,
        size,
        gbps: PER_ITERATION / (r.period / 1000) / 1e9,
        rme: r.latency.rme,
        samples: r.latency.samples?.length ?? Math.round(r.totalTime / r.period),
      });
    }
  }
  if (sink === '') throw new Error('unreachable');

  const label = (size: number) => (size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`);
  console.log(`\nHash throughput (GB/s = 1e9 B/s), ${PER_ITERATION >> 20} MiB per iteration, buffers in cache, Node ${process.version}\n`);
  console.table(
    rows.map((r) => ({
      task: r.name,
      buffer: label(r.size),
      'GB/s': Number(r.gbps.toFixed(2)),
      '±%': Number(r.rme.toFixed(1)),
    })),
  );

  const get = (name: string, size: number): number => rows.find((r) => r.name === name && r.size === size)?.gbps ?? NaN;
  const ratios: Record<string, Record<string, string>> = {};
  for (const [a, b] of [
    ['addon md5', 'node:crypto md5'],
    ['addon sha256', 'node:crypto sha256'],
    ['addon sha512', 'node:crypto sha512'],
    ['addon xxhash', 'xxhash-wasm h64'],
  ] as const) {
    ratios[`${a} / ${b}`] = Object.fromEntries(SIZES.map((s) => [label(s), `${(get(a, s) / get(b, s)).toFixed(2)}x`]));
  }
  console.log('\nRatios');
  console.table(ratios);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
