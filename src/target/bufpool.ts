// Pooled GET buffers of one HTTP thread (PUT buffers are the node's slab, slab.ts). A pool keeps at most
// `keep` free buffers, and trim() (every TRIM_MS, from the Target) lets go of those the last period did
// not need: a burst does not pin its memory for good.

/** How often a Target trims its pools: a burst's buffers are let go of within two periods. */
export const TRIM_MS = 10_000;

export class BufferPool {
  private readonly free: Uint8Array[] = [];
  /** Buffers handed out and not given back, and the most at once since the last trim. */
  private out = 0;
  private peakOut = 0;

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {
    if (size % 4096 !== 0) throw new Error(`buffer size ${size} must be a multiple of 4096`);
  }

  get(): Uint8Array {
    if (++this.out > this.peakOut) this.peakOut = this.out;
    const b = this.free.pop();
    return b ?? new Uint8Array(this.size);
  }

  put(b: Uint8Array): void {
    this.out--;
    if (this.free.length < this.keep) this.free.push(b);
  }

  /**
   * Keeps the free buffers that would have covered the period's peak from what is out now, and drops
   * the rest (the GC frees them). Steady load keeps its buffers; what a burst added goes.
   */
  trim(): void {
    const need = Math.max(0, this.peakOut - this.out);
    if (this.free.length > need) this.free.length = need;
    this.peakOut = this.out;
  }

  /** Free buffers held now (node status, soak). */
  get idle(): number {
    return this.free.length;
  }
}

/**
 * Buffer sets for large whole-object and range GETs (objects of 16 I/O buffers and more), for at most
 * 2 streams of an HTTP thread at a time (later ones get two 1× buffers as usual), and the thread's
 * budget of GET reads beyond one per stream. A set is 3 buffers of 2× the I/O size: get.ts keeps reads
 * in flight in the free ones, so a stream reads up to 2 pieces ahead of the one at the socket. At one
 * connection a 64 MiB GET ran at ~2,110 MiB/s with two 4 MiB buffers (one read at a time: the sends
 * waited for it) and ~2,630 with this (alternating runs on the 2-core VM). Reads ahead share the
 * libuv pool with the PUTs' writes, hence aisnode's pool of 16 (cmd/process-setup.ts) and the
 * per-thread budget of extra reads. Bounding the streams keeps memory flat in the number of large GETs
 * (2 × 6 MiB per thread at most), which raising io.buffer_size would not (the PUT budget is counted in
 * buffers).
 */
export class LargeGetBuffers {
  static readonly MAX_STREAMS = 2;
  static readonly PER_STREAM = 3;
  /** GET reads of the thread beyond one per stream, in flight at once (see get.ts, readAhead). */
  static readonly EXTRA_READS = 4;
  private readonly pool: BufferPool;
  private inUse = 0;
  private extraReads = 0;

  takeExtraRead(): boolean {
    if (this.extraReads >= LargeGetBuffers.EXTRA_READS) return false;
    this.extraReads++;
    return true;
  }

  giveExtraRead(): void {
    this.extraReads--;
  }

  constructor(ioSize: number) {
    this.pool = new BufferPool(ioSize * 2, LargeGetBuffers.PER_STREAM * LargeGetBuffers.MAX_STREAMS);
  }

  /** A stream's buffers, or undefined while MAX_STREAMS streams hold theirs. */
  take(): Uint8Array[] | undefined {
    if (this.inUse >= LargeGetBuffers.MAX_STREAMS) return undefined;
    this.inUse++;
    return Array.from({ length: LargeGetBuffers.PER_STREAM }, () => this.pool.get());
  }

  give(bufs: readonly Uint8Array[]): void {
    for (const b of bufs) this.pool.put(b);
    this.inUse--;
  }

  trim(): void {
    this.pool.trim();
  }
}
