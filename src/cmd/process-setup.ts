// Imported first by aisnode: process-wide settings that must be in place before the node does any work.
//
// The libuv pool runs every file operation of the process — large GETs' reads ahead, PUTs' writes and
// fsyncs, opens and renames — and is sized once, on its first use. Node's default of 4 threads is
// meant for a process that touches files now and then; a storage node has a read or write of every
// stream on it. A value set in the environment wins.
import { mmapThreshold } from '../native';
import { guardRejections } from '../util/guard';

process.env.UV_THREADPOOL_SIZE ??= '16';

// GET buffers (1 MiB, 2 MiB for large GETs) are pooled per HTTP thread, and the pools let go of what a
// burst added (target/bufpool.ts). They come from glibc's heaps: the mmap threshold is fixed at its
// maximum (32 MiB), so glibc neither maps them one by one nor moves its threshold as it goes. Reads into
// buffers that were mappings of their own (the threshold fixed at 256 KiB, 2026-12-07) ran several
// times slower on this VM: a 64 KiB pread into a 1 MiB buffer took ~40 µs in the node against ~7.5 µs
// into the same size from the heap (in a small standalone process both took ~5 µs: why only in the node,
// we did not find), and GETs at one connection went, 1 MiB
// objects 640–790 → 1,270–1,410 MiB/s, 1 GiB 1,080–1,130 → 1,490–1,770, range 64 KiB 4,860–4,910 →
// 6,030–6,160 ops/s. A buffer freed in the middle of a heap may stay resident; the pools keep
// what steady load uses and glibc reuses the freed ones for the next of the same size (bench:soak
// checks the sum stays flat). The PUT slab (slab.ts) is larger than the threshold: one mapping.
mmapThreshold(32 * 1024 * 1024);

guardRejections('aisnode');
