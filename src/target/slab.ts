// The PUT buffers of a node: one SharedArrayBuffer carved into `slots` buffers, shared by all its HTTP
// threads (and seen by the Piscina workers that write them), with a used-flag per slot taken and given
// back with Atomics. Replaces a pool per HTTP thread: those kept up to 64 buffers each, so a node with
// two threads could hold twice its PUT budget for good, and a buffer beyond a pool was a
// SharedArrayBuffer of its own (trimming the pools made those common and a 10-minute soak grew ~25 MiB
// a minute: most likely the workers it visited, which collect their garbage seldom, kept it alive). Here memory is what the slab's touched pages are: at most `slots` buffers, and the lowest free
// slot is taken first, so it stays at the most ever in use at once. A get() when every slot is taken
// (more uploads filling their one buffer than the budget has room for) gets a buffer of its own.
//
// Layout: [one Int32 flag per slot][padding to a 4096-byte boundary][slot 0][slot 1]... — every slot
// 4096-aligned (O_DIRECT writes it without a copy), as the same memory is at the same address in every
// thread of the process.
import { alignOffset } from '../native';

const ALIGN = 4096;

export class PutSlab {
  readonly sab: SharedArrayBuffer;
  private readonly flags: Int32Array;
  private readonly views: Uint8Array[];
  /** Buffers handed out beyond the slab, for node status. */
  private overflowed = 0;

  constructor(
    readonly size: number,
    readonly slots: number,
    /** The node's slab, made by the main thread; absent: a new one (tests, a node's main thread). */
    sab?: SharedArrayBuffer,
  ) {
    if (size % ALIGN !== 0) throw new Error(`buffer size ${size} must be a multiple of ${ALIGN}`);
    this.sab = sab ?? new SharedArrayBuffer(PutSlab.bytes(size, slots));
    this.flags = new Int32Array(this.sab, 0, slots);
    const first = alignOffset(this.sab) + Math.ceil((slots * 4) / ALIGN) * ALIGN;
    this.views = Array.from({ length: slots }, (_, i) => new Uint8Array(this.sab, first + i * size, size));
  }

  /** Bytes of a slab: the flags, alignment slack, the slots. */
  static bytes(size: number, slots: number): number {
    return Math.ceil((slots * 4) / ALIGN) * ALIGN + ALIGN + size * slots;
  }

  get(): Uint8Array {
    for (let i = 0; i < this.slots; i++) {
      if (Atomics.load(this.flags, i) === 0 && Atomics.compareExchange(this.flags, i, 0, 1) === 0) return this.views[i]!;
    }
    this.overflowed++;
    const own = new SharedArrayBuffer(this.size + ALIGN);
    return new Uint8Array(own, alignOffset(own), this.size);
  }

  put(b: Uint8Array): void {
    if (b.buffer !== this.sab) return; // one of its own: the GC takes it
    const first = this.views[0]!.byteOffset;
    Atomics.store(this.flags, (b.byteOffset - first) / this.size, 0);
  }

  /** Slots in use now (all threads). */
  get inUse(): number {
    let n = 0;
    for (let i = 0; i < this.slots; i++) n += Atomics.load(this.flags, i);
    return n;
  }

  /** Buffers this thread had to make beyond the slab. */
  get overflow(): number {
    return this.overflowed;
  }
}
