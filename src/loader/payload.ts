// What aisloader writes: one pseudo-random buffer per run (filled from -seed, shared by all threads),
// and for object number i a name, a size and a starting offset in that buffer, all functions of
// (seed, i). The object's bytes are the buffer read as a ring from that offset, so two runs with the
// same seed write the same bytes under the same names — to tais and to a peer alike — and no PUT
// allocates or copies its payload: it writes views of the one buffer.

/** Largest ring buffer (bytes); larger objects wrap around it. */
const MAX_RING = 64 << 20;
/** Slack beyond the largest object so objects of one size start at different offsets. */
const SLACK = 1 << 20;

export interface Payload {
  /** The ring (a Buffer over a SharedArrayBuffer, so threads share it). */
  buf: Buffer;
  seed: number;
}

export function ringSize(maxSize: number): number {
  const n = Math.min(MAX_RING, Math.max(SLACK, maxSize + SLACK));
  return Math.ceil(n / 4096) * 4096;
}

/** Fills a new shared ring from the seed (xoshiro128**, ~1 GB/s: 65 MiB in well under a second). */
export function makePayload(seed: number, maxSize: number): Payload {
  const sab = new SharedArrayBuffer(ringSize(maxSize));
  fillPrng(new Uint32Array(sab), seed);
  return { buf: Buffer.from(sab), seed };
}

/** The ring of an existing SharedArrayBuffer (in a worker thread). */
export function payloadOf(sab: SharedArrayBuffer, seed: number): Payload {
  return { buf: Buffer.from(sab), seed };
}

function fillPrng(out: Uint32Array, seed: number): void {
  let s0 = mix32(seed ^ 0x9e3779b9) | 1;
  let s1 = mix32(seed + 0x7f4a7c15);
  let s2 = mix32(seed ^ 0x85ebca6b);
  let s3 = mix32(seed + 0xc2b2ae35);
  for (let i = 0; i < out.length; i++) {
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    out[i] = r;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** murmur3's finalizer: a cheap, well-mixed 32-bit hash. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A uniform number in [0, 1) from (seed, i, salt). */
function unit(seed: number, i: number, salt: number): number {
  const hi = mix32(mix32(seed ^ salt) ^ i);
  const lo = mix32(hi ^ Math.imul(i, 0x27d4eb2d) ^ salt);
  return (hi * 2 ** 21 + (lo >>> 11)) / 2 ** 53;
}

/** Name of the i-th object a run with this seed writes: `[subdir/]<seed hex>-<i hex>`. */
export function objectName(subdir: string, seed: number, i: number): string {
  const base = `${seed.toString(16).padStart(8, '0')}-${i.toString(16).padStart(8, '0')}`;
  return subdir ? `${subdir}/${base}` : base;
}

export function objectSize(seed: number, i: number, minSize: number, maxSize: number): number {
  if (maxSize === minSize) return minSize;
  return minSize + Math.floor(unit(seed, i, 0x51ed) * (maxSize - minSize + 1));
}

/** Where the object starts in the ring: so that it does not wrap when it fits. */
export function objectOffset(seed: number, i: number, size: number, ringLen: number): number {
  const span = size <= ringLen ? ringLen - size + 1 : ringLen;
  return Math.floor(unit(seed, i, 0x0ff5) * span);
}

/** The object's bytes as views of the ring, in order (one view unless it wraps). */
export function bodyViews(ring: Buffer, offset: number, size: number): Buffer[] {
  const out: Buffer[] = [];
  let off = offset;
  let left = size;
  while (left > 0) {
    const n = Math.min(left, ring.length - off);
    out.push(ring.subarray(off, off + n));
    left -= n;
    off = 0;
  }
  return out;
}

/** The same bytes as one new Buffer (for checks and for writing reference files; allocates). */
export function objectBytes(ring: Buffer, offset: number, size: number): Buffer {
  return Buffer.concat(bodyViews(ring, offset, size), size);
}

/** Small seeded PRNG for the workers' choices (op mix, which object to GET). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = mix32(seed) || 1;
  }
  /** [0, 1) */
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 2 ** 32;
  }
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}
