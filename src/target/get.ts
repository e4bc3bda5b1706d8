// GET: stream an object (or a range of it) from an open handle. Reads run on the libuv pool through the
// addon, several pieces ahead of the socket for a large object; each piece is hashed as it is sent;
// writes use tryEnd/onWritable so a slow client holds only the stream's own buffers. A whole-object GET
// verifies the stored checksum and holds back the last piece until it matches: a corrupted object
// never completes as a successful response.
// With io.sendfile, a large one sends its first piece that way, then hands the body but its tail to a
// native thread that sends it with sendfile(2) and verifies the rest (native/sendfile.cc); uWS writes
// the tail once the digest matched, which ends the response as usual.
import { hashInit, hashDigest, hashUpdate, readHash, readHashSync, sendObject, socketFd, type HashKind, type SendResult } from '../native';
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

/**
 * Objects of this many I/O buffers and more are large: they take a set of larger buffers (bufpool.ts,
 * LargeGetBuffers) or may go out by sendfile (a thread's start is then noise).
 */
const LARGE_BUFFERS = 16;
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
  if (!target.config.io.sendfile || target.servePort < 0 || plan.length < LARGE_BUFFERS * target.getBufs.size) return -1;
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

/** A piece of the object being read into one of the stream's buffers. */
interface Piece {
  buf: Uint8Array;
  /** Its bytes: `buf.subarray(0, len)` once read. */
  len: number;
  /** Settles when the read has ended (never rejects: see `err`). */
  read: Promise<void>;
  ready: boolean;
  err?: Error;
}

function mismatch(target: Target, h: ObjectHandle, what: string): ChecksumMismatch {
  target.stats.errCksum++;
  log.error(`checksum mismatch, not served: ${h.path}: ${what}`);
  return new ChecksumMismatch(`stored object is corrupted (${what})`);
}

/**
 * Streams an object with its pieces read ahead in parallel: free buffers get reads in flight on the
 * libuv pool (plain preads, not hashed), and the pieces are hashed in order on this thread as each is
 * sent (the bytes are still in cache from the read). A large stream has 3 buffers, so up to 2 reads
 * run beside the piece at the socket: at one connection the stream was bound by one pread at a time
 * (72 % of sends found the next read not done), not by the socket or the cores.
 */
class GetStream {
  private readonly state: Uint8Array | null;
  private pos: number;
  private readonly end: number;
  private readonly free: Uint8Array[];
  /** Pieces in object order: the head is the next to send (or being sent). */
  private readonly pieces: Piece[] = [];
  private sending = false;
  /** Reads in flight. */
  private reads = 0;
  private headersSent = false;
  private closed = false;
  /** The buffers came from target.largeGetBufs (they go back there). */
  private readonly large: boolean;
  /** The connection's socket while the body may still go to sendfile (after the first piece), else -1. */
  private sock: number;
  /** The native send in flight, if any: it uses the fd, which is released only after it ends. */
  private native: Promise<void> | undefined;
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
    // Large objects take a large set while few streams hold one (not those that will hand their body
    // to sendfile after one piece).
    const large = sock < 0 && plan.length >= LARGE_BUFFERS * target.getBufs.size ? target.largeGetBufs.take() : undefined;
    this.large = large !== undefined;
    this.free = large ?? [target.getBufs.get(), target.getBufs.get()];
    req.onAbort = () => this.finish();
  }

  start(): void {
    this.readAhead();
  }

  /**
   * Starts reads into free buffers, in object order: always one when none is in flight, more while the
   * HTTP thread's budget of extra reads allows (they share the libuv pool with every other file
   * operation of the process: PUTs' writes, fsyncs and renames must not queue behind dozens of reads).
   * A stream that may go to sendfile reads its first piece only.
   */
  private readAhead(): void {
    const budget = this.target.largeGetBufs;
    while (!this.closed && this.pos < this.end && this.free.length > 0) {
      if (this.sock >= 0 && this.pos > this.plan.start) break;
      const extra = this.reads > 0;
      if (extra && !budget.takeExtraRead()) break;
      this.reads++;
      const buf = this.free.pop()!;
      const at = this.pos;
      const len = Math.min(buf.length, this.end - at);
      this.pos += len;
      const piece: Piece = { buf, len, ready: false, read: Promise.resolve() };
      const settled = (): void => {
        piece.ready = true;
        this.reads--;
        if (extra) budget.giveExtraRead();
      };
      piece.read = this.readPiece(buf, at, len).then(settled, (err: Error) => {
        piece.err = err;
        settled();
      });
      this.pieces.push(piece);
      if (this.pieces.length === 1) piece.read.then(() => this.sendHead());
    }
  }

  private async readPiece(buf: Uint8Array, at: number, len: number): Promise<void> {
    let got = 0;
    while (got < len) {
      const n = await readHash(this.h.fd, buf.subarray(got, len), at + got, null, null);
      if (n === 0) throw mismatch(this.target, this.h, `file ends at ${at + got}, expected ${at + len}`);
      got += n;
    }
  }

  /** The head piece has been read: hash it and send it (the last one only once the checksum matches). */
  private sendHead(): void {
    const piece = this.pieces[0];
    if (this.closed || this.sending || !piece?.ready) return;
    if (piece.err) return this.fail(piece.err);
    const bytes = piece.buf.subarray(0, piece.len);
    if (this.kind && this.state) hashUpdate(this.kind, this.state, bytes);
    const last = this.pieces.length === 1 && this.pos >= this.end;
    if (last && this.kind && this.state) {
      const digest = hashDigest(this.kind, this.state);
      if (digest !== this.h.lom.cksumValue) {
        this.fail(mismatch(this.target, this.h, `${this.kind} ${digest} != stored ${this.h.lom.cksumValue}`));
        return;
      }
    }
    this.sending = true;
    this.send(bytes, (whole) => {
      this.sending = false;
      this.pieces.shift();
      this.free.push(piece.buf);
      if (last) return this.done();
      if (this.sock >= 0) {
        // Only when uWS wrote the head and the piece at once does it hold nothing back that the
        // native thread's bytes could overtake.
        if (whole && this.sendRest()) return;
        this.sock = -1;
      }
      this.readAhead();
      this.pieces[0]!.read.then(() => this.sendHead());
    });
  }

  /** Hands the body but its tail to a native thread (sendfile); false when none is free. */
  private sendRest(): boolean {
    const verify = this.kind && this.state ? { kind: this.kind, state: this.state, expected: this.h.lom.cksumValue } : null;
    const tail = Math.min(SENDFILE_TAIL, this.end - this.pos);
    let settle!: () => void;
    const native = new Promise<void>((resolve) => (settle = resolve));
    const started = sendObject(this.sock, this.h.fd, { start: this.pos, length: this.end - this.pos, tail }, verify, (r) => {
      settle();
      this.sentRest(r, tail);
    }, SENDFILE_MAX_ACTIVE);
    if (!started) return false;
    // uWS must not read, write or time the connection out while the thread owns it.
    this.res.pause();
    this.native = native;
    return true;
  }

  /** The native send ended: on success uWS writes the tail, which ends the response for it. */
  private sentRest(r: SendResult, tailLength: number): void {
    if (this.closed) return;
    let err: Error | undefined;
    if (r.digest !== undefined) err = mismatch(this.target, this.h, `${this.kind} ${r.digest} != stored ${this.h.lom.cksumValue}`);
    else if (r.fileEnd !== undefined) err = mismatch(this.target, this.h, `file ends at ${r.fileEnd}, expected ${this.end}`);
    else if (r.error) err = r.error;
    this.sock = -1;
    this.res.resume();
    if (err) return this.fail(err);
    const tail = this.free[0]!.subarray(0, tailLength);
    try {
      // The bytes are the ones just verified: the object's file is never written in place.
      if (readHashSync(this.h.fd, tail, this.end - tailLength, null, null) !== tailLength) throw mismatch(this.target, this.h, `file ends before ${this.end}`);
    } catch (e) {
      return this.fail(e as Error);
    }
    this.sentNatively = r.sent;
    this.send(tail, () => {
      this.target.stats.getSendfileCount++;
      this.done();
    });
  }

  private done(): void {
    this.target.stats.getCount++;
    this.target.stats.getBytes += this.plan.length;
    this.finish();
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
    // Reads and a native send in flight still use the fd and the buffers: release both once they end.
    const pending = this.pieces.map((p) => p.read);
    if (this.native) pending.push(this.native);
    const release = (): void => {
      this.target.closeObject(this.h);
      const bufs = [...this.free, ...this.pieces.map((p) => p.buf)];
      this.pieces.length = 0;
      this.free.length = 0;
      if (this.large) this.target.largeGetBufs.give(bufs);
      else for (const b of bufs) this.target.getBufs.put(b);
    };
    if (pending.length > 0) void Promise.all(pending).then(release);
    else release();
  }
}
