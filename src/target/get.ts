// GET: stream an object (or a range of it) from an open handle. Reads run on the libuv pool through the
// addon, fused with the checksum update, one buffer ahead of the socket; writes use tryEnd/onWritable
// so a slow client holds at most two buffers. A whole-object GET verifies the stored checksum and holds
// back the last buffer until it matches: a corrupted object never completes as a successful response.
// Large ones (io.sendfile) send their first piece so, then hand the body but its tail to a native
// thread that sends it with sendfile(2) and verifies the rest (native/sendfile.cc); uWS writes the
// tail once the digest matched, which ends the response as usual.
import { hashInit, hashDigest, readHash, readHashSync, sendObject, socketFd, type HashKind, type SendResult } from '../native';
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

/** GETs of this many buffers and more may go out by sendfile (a thread's start is then noise). */
const SENDFILE_MIN_BUFFERS = 16;
/** Native sends at once in the process (each is a thread while it runs); more stream through uWS. */
const SENDFILE_MAX_ACTIVE = 16;
/** The last bytes of a sendfile GET, written by uWS: they complete the response for it. */
const SENDFILE_TAIL = 64 * 1024;

export function streamObject(target: Target, res: HttpResponse, req: Req, h: ObjectHandle, plan: GetPlan, onError: (err: Error) => void): void {
  const kind = plan.verify && h.lom.cksumType !== 'none' ? (h.lom.cksumType as HashKind) : null;
  if (plan.length <= target.getBufs.size) return sendSmall(target, res, req, h, plan, kind, onError);
  new GetStream(target, res, req, h, plan, kind, onError, sendfileSocket(target, res, plan)).start();
}

/** The response's socket when this GET may hand its body to sendfile, else -1. */
function sendfileSocket(target: Target, res: HttpResponse, plan: GetPlan): number {
  if (!target.config.io.sendfile || target.servePort < 0 || plan.length < SENDFILE_MIN_BUFFERS * target.getBufs.size) return -1;
  return socketFd(res, target.servePort);
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
  /** The connection's socket while the body may still go to sendfile (after the first piece), else -1. */
  private sock: number;
  /** Body bytes a native thread sent (uWS did not see them). */
  private sentNatively = 0;

  constructor(
    private readonly target: Target,
    private readonly res: HttpResponse,
    private readonly req: Req,
    private readonly h: ObjectHandle,
    private readonly plan: GetPlan,
    private readonly kind: HashKind | null,
    private readonly onError: (err: Error) => void,
    sock: number,
  ) {
    this.state = kind ? hashInit(kind) : null;
    this.pos = plan.start;
    this.end = plan.start + plan.length;
    this.sock = sock;
    // Objects of 16 buffers and more take the larger buffers while few streams hold them (not those
    // that will hand their body to sendfile after one piece).
    this.large = sock < 0 && plan.length >= 16 * target.getBufs.size ? target.largeGetBufs.take() : undefined;
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
    // A stream that may go to sendfile reads nothing ahead of its first piece.
    const handOff = this.sock >= 0 && !last;
    const ahead = last || handOff ? undefined : this.read(this.next);
    // Its outcome is taken only once `cur` is sent; a read that fails before then (a file cut short,
    // EIO) must not be an unhandled rejection meanwhile, which would end the process.
    ahead?.catch(() => undefined);
    this.reading = ahead;
    this.send(this.cur.subarray(0, n), (whole) => {
      if (last) {
        this.target.stats.getCount++;
        this.target.stats.getBytes += this.plan.length;
        this.finish();
        return;
      }
      if (handOff) {
        // Only when uWS wrote the head and the piece at once does it hold nothing back that the
        // native thread's bytes could overtake.
        if (whole && this.sendRest()) return;
        this.sock = -1;
        this.reading = this.read(this.cur);
        this.reading.then((m) => this.have(m), (err: Error) => this.fail(err));
        return;
      }
      [this.cur, this.next] = [this.next, this.cur];
      ahead!.then((m) => this.have(m), (err: Error) => this.fail(err));
    });
  }

  /** Hands the body but its tail to a native thread (sendfile); false when none is free. */
  private sendRest(): boolean {
    const verify = this.kind && this.state ? { kind: this.kind, state: this.state, expected: this.h.lom.cksumValue } : null;
    const range = { start: this.pos, length: this.end - this.pos, tail: Math.min(SENDFILE_TAIL, this.end - this.pos) };
    let settle!: () => void;
    const sending = new Promise<number>((resolve) => (settle = () => resolve(0)));
    const started = sendObject(this.sock, this.h.fd, range, verify, (r) => {
      settle();
      this.sentRest(r, range);
    }, SENDFILE_MAX_ACTIVE);
    if (!started) return false;
    // uWS must not read, write or time the connection out while the thread owns it.
    this.res.pause();
    this.reading = sending;
    return true;
  }

  /** The native send ended: on success uWS writes the tail, which ends the response for it. */
  private sentRest(r: SendResult, range: { start: number; length: number; tail: number }): void {
    if (this.closed) return;
    let err: Error | undefined;
    if (r.digest !== undefined) err = mismatch(this.target, this.h, `${this.kind} ${r.digest} != stored ${this.h.lom.cksumValue}`);
    else if (r.fileEnd !== undefined) err = mismatch(this.target, this.h, `file ends at ${r.fileEnd}, expected ${this.end}`);
    else if (r.error) err = r.error;
    this.sock = -1;
    this.res.resume();
    if (err) return this.fail(err);
    const tail = this.cur.subarray(0, range.tail);
    this.reading = undefined;
    try {
      // The bytes are the ones just verified: the object's file is never written in place.
      if (readHashSync(this.h.fd, tail, this.end - range.tail, null, null) !== range.tail) throw mismatch(this.target, this.h, `file ends before ${this.end}`);
    } catch (e) {
      return this.fail(e as Error);
    }
    this.pos = this.end;
    this.sentNatively = r.sent;
    this.send(tail, () => {
      this.target.stats.getSendfileCount++;
      this.target.stats.getCount++;
      this.target.stats.getBytes += this.plan.length;
      this.finish();
    });
  }

  /**
   * `sent(whole)`: the chunk is out; `whole` when uWS took it at once, holding nothing back. uWS ends
   * the response when what it wrote reaches the total; after a native send, that is less than the
   * Content-Length it wrote (once, with the first piece).
   */
  private send(chunk: Uint8Array, sent: (whole: boolean) => void): void {
    if (this.closed) return;
    const total = this.plan.length - this.sentNatively;
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
    if (ok) return sent(true);
    // uWS keeps calling this handler on every writable event until another replaces it: once the
    // chunk is out, later calls must neither write nor report it sent a second time.
    let out = false;
    this.res.onWritable((offset) => {
      if (this.closed || out) return true;
      [out] = this.res.tryEnd(chunk.subarray(offset - base), total);
      // Continue outside the uWS callback: promise reactions queued in here would wait for the next
      // event, and a write issued from inside the writable handler can lose its re-armed poll.
      if (out) setImmediate(sent, false);
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
