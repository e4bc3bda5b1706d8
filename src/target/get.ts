// GET: stream an object (or a range of it) from an open handle. Reads run on the libuv pool through the
// addon, fused with the checksum update, one buffer ahead of the socket; writes use tryEnd/onWritable
// so a slow client holds at most two buffers. A whole-object GET verifies the stored checksum and holds
// back the last buffer until it matches: a corrupted object never completes as a successful response.
import { hashInit, hashDigest, readHash, readHashSync, type HashKind } from '../native';
import type { HttpResponse } from '../util/uws';
import type { Req, HeaderList } from '../api/http';
import type { ObjectHandle, Target } from './target';
import { log } from '../util/log';

export interface GetPlan {
  status: string;
  headers: HeaderList;
  start: number;
  /** Bytes to send. */
  length: number;
  /** Verify the stored checksum (only for whole-object reads). */
  verify: boolean;
}

export class ChecksumMismatch extends Error {}

export function streamObject(target: Target, res: HttpResponse, req: Req, h: ObjectHandle, plan: GetPlan, onError: (err: Error) => void): void {
  const kind = plan.verify && h.lom.cksumType !== 'none' ? (h.lom.cksumType as HashKind) : null;
  if (plan.length <= target.getBufs.size) sendSmall(target, res, req, h, plan, kind, onError);
  else new GetStream(target, res, req, h, plan, kind, onError).start();
}

/** One buffer: read, verify and answer inline (no pool hop, one corked write). */
function sendSmall(target: Target, res: HttpResponse, req: Req, h: ObjectHandle, plan: GetPlan, kind: HashKind | null, onError: (err: Error) => void): void {
  const buf = target.getBufs.get();
  let open = true;
  try {
    const state = kind ? hashInit(kind) : null;
    let got = 0;
    while (got < plan.length) {
      const n = readHashSync(h.fd, buf.subarray(got, plan.length), plan.start + got, kind, state);
      if (n === 0) break;
      got += n;
    }
    open = false;
    target.closeObject(h);
    if (got !== plan.length) throw mismatch(target, h, `size ${got}, expected ${plan.length}`);
    if (kind && state && hashDigest(kind, state) !== h.lom.cksumValue) throw mismatch(target, h, `${kind} ${hashDigest(kind, state)} != stored ${h.lom.cksumValue}`);
    if (req.aborted) return;
    res.cork(() => {
      res.writeStatus(plan.status);
      for (const [k, v] of plan.headers) res.writeHeader(k, v);
      res.end(buf.subarray(0, plan.length));
    });
    target.stats.getCount++;
    target.stats.getBytes += plan.length;
  } catch (err) {
    if (open) target.closeObject(h);
    onError(err as Error);
  } finally {
    target.getBufs.put(buf);
  }
}

function mismatch(target: Target, h: ObjectHandle, what: string): ChecksumMismatch {
  target.stats.errCksum++;
  log.error(`checksum mismatch, not served: ${h.path}: ${what}`);
  return new ChecksumMismatch(`stored object is corrupted (${what})`);
}

class GetStream {
  private readonly state: Uint8Array | null;
  private pos: number;
  private readonly end: number;
  private cur: Uint8Array;
  private next: Uint8Array;
  private headersSent = false;
  private closed = false;
  /** The read in flight, if any: fd and buffers are released only after it settles. */
  private reading: Promise<number> | undefined;
  /** The two buffers came from target.largeGetBufs (they go back there). */
  private readonly large: [Uint8Array, Uint8Array] | undefined;

  constructor(
    private readonly target: Target,
    private readonly res: HttpResponse,
    private readonly req: Req,
    private readonly h: ObjectHandle,
    private readonly plan: GetPlan,
    private readonly kind: HashKind | null,
    private readonly onError: (err: Error) => void,
  ) {
    this.state = kind ? hashInit(kind) : null;
    this.pos = plan.start;
    this.end = plan.start + plan.length;
    // Objects of 16 buffers and more take the larger buffers while few streams hold them.
    this.large = plan.length >= 16 * target.getBufs.size ? target.largeGetBufs.take() : undefined;
    [this.cur, this.next] = this.large ?? [target.getBufs.get(), target.getBufs.get()];
    req.onAbort = () => this.finish();
  }

  start(): void {
    this.reading = this.read(this.cur);
    this.reading.then((n) => this.have(n), (err: Error) => this.fail(err));
  }

  /** Reads the next piece into `buf`; resolves with its length. */
  private async read(buf: Uint8Array): Promise<number> {
    const want = Math.min(buf.length, this.end - this.pos);
    let got = 0;
    while (got < want) {
      const n = await readHash(this.h.fd, buf.subarray(got, want), this.pos + got, this.kind, this.state);
      if (n === 0) throw mismatch(this.target, this.h, `file ends at ${this.pos + got}, expected ${this.end}`);
      got += n;
    }
    this.pos += got;
    return got;
  }

  /** `cur` holds `n` fresh bytes: start reading ahead into `next`, then send `cur`. */
  private have(n: number): void {
    if (this.closed) return;
    const last = this.pos >= this.end;
    if (last && this.kind && this.state) {
      const digest = hashDigest(this.kind, this.state);
      if (digest !== this.h.lom.cksumValue) {
        this.fail(mismatch(this.target, this.h, `${this.kind} ${digest} != stored ${this.h.lom.cksumValue}`));
        return;
      }
    }
    const ahead = last ? undefined : this.read(this.next);
    // Its outcome is taken only once `cur` is sent; a read that fails before then (a file cut short,
    // EIO) must not be an unhandled rejection meanwhile, which would end the process.
    ahead?.catch(() => undefined);
    this.reading = ahead;
    this.send(this.cur.subarray(0, n), () => {
      if (last) {
        this.target.stats.getCount++;
        this.target.stats.getBytes += this.plan.length;
        this.finish();
        return;
      }
      [this.cur, this.next] = [this.next, this.cur];
      ahead!.then((m) => this.have(m), (err: Error) => this.fail(err));
    });
  }

  private send(chunk: Uint8Array, sent: () => void): void {
    if (this.closed) return;
    const total = this.plan.length;
    let base = 0;
    let ok = false;
    this.res.cork(() => {
      if (!this.headersSent) {
        this.headersSent = true;
        this.res.writeStatus(this.plan.status);
        for (const [k, v] of this.plan.headers) this.res.writeHeader(k, v);
      }
      base = this.res.getWriteOffset();
      [ok] = this.res.tryEnd(chunk, total);
    });
    if (ok) return sent();
    // uWS keeps calling this handler on every writable event until another replaces it: once the
    // chunk is out, later calls must neither write nor report it sent a second time.
    let out = false;
    this.res.onWritable((offset) => {
      if (this.closed || out) return true;
      [out] = this.res.tryEnd(chunk.subarray(offset - base), total);
      // Continue outside the uWS callback: promise reactions queued in here would wait for the next
      // event, and a write issued from inside the writable handler can lose its re-armed poll.
      if (out) setImmediate(sent);
      return out;
    });
  }

  private fail(err: Error): void {
    if (this.closed) return;
    if (this.headersSent) {
      // Too late for an error status: cut the connection so the client sees an incomplete body.
      if (!this.req.aborted) this.res.close();
      this.finish();
      return;
    }
    this.finish();
    this.onError(err);
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    const release = (): void => {
      this.target.closeObject(this.h);
      if (this.large) this.target.largeGetBufs.give(this.cur, this.next);
      else {
        this.target.getBufs.put(this.cur);
        this.target.getBufs.put(this.next);
      }
    };
    if (this.reading) this.reading.then(release, release);
    else release();
  }
}
