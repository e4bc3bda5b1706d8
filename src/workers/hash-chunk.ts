// Piscina task: advance an upload's hash states over one buffer. Hashing is the only part of a PUT
// that must run in order; the writes of the same buffers run beside it on the libuv pool.
import { hashUpdate } from '../native';
import type { HashSlot } from './put-chunk';

export interface HashChunkTask {
  buf: Uint8Array;
  len: number;
  hashes: HashSlot[];
}

export function hashChunk(t: HashChunkTask): void {
  const data = t.buf.subarray(0, t.len);
  for (const h of t.hashes) hashUpdate(h.kind, h.state, data);
}
