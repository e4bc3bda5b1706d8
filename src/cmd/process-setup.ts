// Imported first by aisnode: process-wide settings that must be in place before the node does any work.
//
// The libuv pool runs every file operation of the process — large GETs' reads ahead, PUTs' writes and
// fsyncs, opens and renames — and is sized once, on its first use. Node's default of 4 threads is
// meant for a process that touches files now and then; a storage node has a read or write of every
// stream on it. A value set in the environment wins.
import { mmapThreshold } from '../native';

process.env.UV_THREADPOOL_SIZE ??= '16';

// GET buffers (1 MiB, 2 MiB for large GETs) are pooled per HTTP thread, and the pools let go of what a
// burst added (target/bufpool.ts). glibc would serve them from its heaps once its adaptive mmap
// threshold has risen past their size (it rises to the largest block ever freed), where a freed one in
// the middle of a heap stays resident. With a fixed threshold each is a mapping of its own, returned to
// the kernel when the GC frees it.
mmapThreshold(256 * 1024);
