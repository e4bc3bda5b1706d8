// GET: stream an object (or a range of it) from an open handle. Reads run on the libuv pool through the
// addon, several pieces ahead of the socket for a large object; each piece is hashed as it is sent;
// writes use tryEnd/onWritable so a slow client holds only the stream's own buffers. A whole-object GET verifies the stored checksum and holds
// back the last buffer until it matches: a corrupted object never completes as a successful response.
import { hashInit, hashDigest, hashUpdate, readHash, readHashSync, type HashKind } from '../native';
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
    // Objects of 16 I/O buffers and more take the large set while few streams hold one.
    const large = plan.length >= 16 * target.getBufs.size ? target.largeGetBufs.take() : undefined;
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
   */
  private readAhead(): void {
    const budget = this.target.largeGetBufs;
    while (!this.closed && this.pos < this.end && this.free.length > 0) {
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
    this.send(bytes, () => {
      this.sending = false;
      this.pieces.shift();
      this.free.push(piece.buf);
      if (last) {
        this.target.stats.getCount++;
        this.target.stats.getBytes += this.plan.length;
        this.finish();
        return;
      }
      this.readAhead();
      this.pieces[0]!.read.then(() => this.sendHead());
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
    // Reads in flight still use the fd and their buffers: release both once they have all ended.
    const reads = this.pieces.map((p) => p.read);
    const release = (): void => {
      this.target.closeObject(this.h);
      const bufs = [...this.free, ...this.pieces.map((p) => p.buf)];
      this.pieces.length = 0;
      this.free.length = 0;
      if (this.large) this.target.largeGetBufs.give(bufs);
      else for (const b of bufs) this.target.getBufs.put(b);
    };
    if (reads.length > 0) void Promise.all(reads).then(release);
    else release();
  }
}
