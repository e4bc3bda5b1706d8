// Imported first by aisnode: process-wide settings that must be in place before the node does any work.
//
// The libuv pool runs every file operation of the process — large GETs' reads ahead, PUTs' writes and
// fsyncs, opens and renames — and is sized once, on its first use. Node's default of 4 threads is
// meant for a process that touches files now and then; a storage node has a read or write of every
// stream on it. A value set in the environment wins.
import { mmapThreshold } from '../native';

process.env.UV_THREADPOOL_SIZE ??= '16';

// Body buffers (1 MiB PUT/GET buffers, 2 MiB for large GETs) are pooled, and the GET pools let go of
// what a burst added. glibc would serve them from its heaps once its adaptive mmap threshold has risen
// past their size (it rises to the largest block ever freed), and a freed buffer in the middle of a
// heap stays resident: the 10-minute soak's RSS crept up. With a fixed threshold every such buffer is
// its own mapping, returned to the kernel when the GC frees it.
mmapThreshold(256 * 1024);
