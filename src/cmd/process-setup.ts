// Imported first by aisnode: process-wide settings that must be in place before the node does any work.
//
// The libuv pool runs every file operation of the process — large GETs' reads ahead, PUTs' writes and
// fsyncs, opens and renames — and is sized once, on its first use. Node's default of 4 threads is
// meant for a process that touches files now and then; a storage node has a read or write of every
// stream on it. A value set in the environment wins.
process.env.UV_THREADPOOL_SIZE ??= '16';
