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
