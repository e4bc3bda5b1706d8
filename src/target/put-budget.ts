// The node-wide budget of PUT buffers in flight (config `io.put_buffers_max`). Every upload already
// pauses its socket at 8 buffers of its own; this caps the sum over all uploads and all HTTP threads, so
// a thousand concurrent PUTs cost the budget plus the one buffer each is filling, not 8 each.
//
// The count lives in a SharedArrayBuffer shared by the node's HTTP threads: [0] buffers in flight,
// [1] a generation bumped on every release (what waiting threads sleep on with Atomics.waitAsync),
// [2] the most ever in flight (node status reports it).
// Taking never blocks: an upload that goes over the budget takes its buffer (the bytes are already in
// hand: uWS chunks cannot be refused) and pauses its socket; it resumes when the count is back under
// the budget. Nothing waits while holding what others need — a buffer in flight only needs the disk and
// the hash pool to come back — so there is no deadlock.
const IN_FLIGHT = 0;
const GEN = 1;
const PEAK = 2;
export const PUT_BUDGET_BYTES = 12;

export class PutBudget {
  private readonly a: Int32Array;
  /** Uploads of this thread paused by the budget, in arrival order. */
  private readonly waiters: (() => boolean)[] = [];
  private sleeping = false;

  constructor(
    readonly max: number,
    shared: SharedArrayBuffer = new SharedArrayBuffer(PUT_BUDGET_BYTES),
  ) {
    this.a = new Int32Array(shared);
  }

  get buffer(): SharedArrayBuffer {
    return this.a.buffer as SharedArrayBuffer;
  }

  get inFlight(): number {
    return Atomics.load(this.a, IN_FLIGHT);
  }

  /** Takes one buffer; true when the node is now over its budget (the caller pauses its socket). */
  take(): boolean {
    const n = Atomics.add(this.a, IN_FLIGHT, 1) + 1;
    for (let p = Atomics.load(this.a, PEAK); n > p; p = Atomics.load(this.a, PEAK)) if (Atomics.compareExchange(this.a, PEAK, p, n) === p) break;
    return n > this.max;
  }

  get peak(): number {
    return Atomics.load(this.a, PEAK);
  }

  over(): boolean {
    return Atomics.load(this.a, IN_FLIGHT) >= this.max;
  }

  give(): void {
    Atomics.sub(this.a, IN_FLIGHT, 1);
    Atomics.add(this.a, GEN, 1);
    Atomics.notify(this.a, GEN);
    this.wake();
  }

  /**
   * Calls `resume` when budget is free again (in FIFO order within this thread); `resume` returns false
   * when the upload no longer wants to resume (it failed, or its own buffers still hold it).
   */
  wait(resume: () => boolean): void {
    this.waiters.push(resume);
    this.wake();
  }

  // One upload resumed per free buffer: waking them all at once would overshoot by the number waiting.
  private wake(): void {
    let free = this.max - this.inFlight;
    while (this.waiters.length > 0 && free > 0) if (this.waiters.shift()!()) free--;
    if (this.waiters.length > 0) this.sleep();
  }

  // Another thread's release must wake our waiters too: sleep on the generation without blocking.
  private sleep(): void {
    if (this.sleeping) return;
    this.sleeping = true;
    const gen = Atomics.load(this.a, GEN);
    const r = Atomics.waitAsync(this.a, GEN, gen);
    const again = (): void => {
      this.sleeping = false;
      this.wake();
    };
    if (r.async) void r.value.then(again);
    else setImmediate(again); // the generation moved already
  }
}
