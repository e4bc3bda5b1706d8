// Piscina task: advance an upload's hash states over the buffers queued for hashing, in order. Hashing
// is the only part of a PUT that must run in order; the writes of the same buffers run beside it on the
// libuv pool. Every buffer waiting when the previous task ended goes in one task: a round trip to the
// pool per buffer was a few percent of a single MD5-bound stream.
import { hashUpdate } from '../native';
import type { HashSlot } from './put-chunk';

export interface HashChunkTask {
  /** Full buffers, in body order. */
  bufs: Uint8Array[];
  hashes: HashSlot[];
}

export function hashChunk(t: HashChunkTask): void {
  for (const data of t.bufs) for (const h of t.hashes) hashUpdate(h.kind, h.state, data);
}
