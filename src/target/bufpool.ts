// Pooled body buffers. A shared one is carved out of its own SharedArrayBuffer at a 4096-byte aligned offset, so
// that a Piscina worker can write it with O_DIRECT without a copy (a SAB is shared, not cloned, when
// posted to a worker). Buffers beyond `keep` are not retained: a burst does not pin memory forever.
import { alignOffset } from '../native';

export class BufferPool {
  private readonly free: Uint8Array[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
    /** Shared buffers travel to workers; plain ones are for uWS writes (GET), which take ArrayBuffers. */
    private readonly shared: boolean,
  ) {
    if (size % 4096 !== 0) throw new Error(`buffer size ${size} must be a multiple of 4096`);
  }

  get(): Uint8Array {
    const b = this.free.pop();
    if (b) return b;
    if (!this.shared) return new Uint8Array(this.size);
    const sab = new SharedArrayBuffer(this.size + 4096);
    return new Uint8Array(sab, alignOffset(sab), this.size);
  }

  put(b: Uint8Array): void {
    if (this.free.length < this.keep) this.free.push(b);
  }
}

/**
 * Buffers of 4× the I/O size for large whole-object and range GETs, for at most 2 streams of an HTTP
 * thread at a time (then 1× buffers as usual). At one connection a 64 MiB GET ran 7–13 % faster with
 * 4 MiB buffers than with 1 MiB (fewer read round trips through the libuv pool and fewer socket
 * writes per byte); bounding the streams keeps memory from growing with the number of large GETs
 * (2 × 2 × 4 MiB per thread at most), which raising io.buffer_size would not (the PUT budget is
 * counted in buffers).
 */
export class LargeGetBuffers {
  static readonly MAX_STREAMS = 2;
  private readonly pool: BufferPool;
  private inUse = 0;

  constructor(ioSize: number) {
    this.pool = new BufferPool(ioSize * 4, 2 * LargeGetBuffers.MAX_STREAMS, false);
  }

  /** A stream's two buffers, or undefined while MAX_STREAMS streams hold theirs. */
  take(): [Uint8Array, Uint8Array] | undefined {
    if (this.inUse >= LargeGetBuffers.MAX_STREAMS) return undefined;
    this.inUse++;
    return [this.pool.get(), this.pool.get()];
  }

  give(a: Uint8Array, b: Uint8Array): void {
    this.pool.put(a);
    this.pool.put(b);
    this.inUse--;
  }
}
