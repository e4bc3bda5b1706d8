// Bytes of objects held whole for transformers at once, on this node: an ETL holds each object (and its
// answer) in memory, so without a bound, concurrent GETs of large objects would take the node's memory.
// Over the budget, a request waits (first come, first served) for others to finish; an object larger
// than the whole budget still goes, alone.
export class ByteBudget {
  private used = 0;
  private readonly waiting: { n: number; go: () => void }[] = [];

  constructor(readonly limit: number) {}

  /** Resolves with the release function once `n` bytes are granted. */
  async take(n: number): Promise<() => void> {
    if (this.waiting.length === 0 && this.fits(n)) this.used += n;
    else await new Promise<void>((go) => this.waiting.push({ n, go })); // granted (counted) by wake()
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used -= n;
      this.wake();
    };
  }

  get inUse(): number {
    return this.used;
  }

  private fits(n: number): boolean {
    return this.used === 0 || this.used + n <= this.limit;
  }

  private wake(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.n)) {
      const w = this.waiting.shift()!;
      this.used += w.n;
      w.go();
    }
  }
}

/** The node's budget for ETL objects (inline GETs and offline jobs together). */
export const etlBytes = new ByteBudget(512 << 20);
