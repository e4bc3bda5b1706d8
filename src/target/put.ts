// PUT: body chunks from uWS are copied into pooled shared buffers (they are only valid inside the
// callback). Each full buffer goes two ways at once: the upload's write queue (one pwritev at a time
// on the libuv pool, see pumpWrites), and its hash strand (native threads that advance its hash states
// in order, native/hash_strand.cc); writes do not wait for the hashes, so the disk and the hasher
// overlap. The last buffer goes to one final Piscina task that hashes and writes it, then finalizes
// the object (metadata, fsync, rename); with fsync on, what is written is flushed behind the writes as
// the body arrives, so that final fsync is short. The socket is paused while too many buffers are in
// flight — 16 of this upload, or the node's budget of all uploads (put-budget.ts). The uWS thread
// never hashes or waits on the disk.
import fs from 'node:fs';
import { hashInit, hashStrand, type HashKind, type HashStrand } from '../native';
import type { BucketProps } from '../cluster/config';
import type { Lom } from '../fs/lom';
import type { HttpResponse } from '../util/uws';
import type { Req } from '../api/http';
import type { PutChunkTask, PutChunkResult, HashSlot } from '../workers/put-chunk';
import type { Target } from './target';
import type { PublishCondition } from './conditions';
import type { FlexRequest } from '../s3/checksums';
import type { TagSet } from '../s3/tagging';

// Buffers of one upload in flight (being written or waiting for the hasher) before its socket pauses,
// and how few let it resume. The window must outlast a hash task: with 8/2, an MD5-bound upload paused
// until its whole queue was hashed, and the hasher then waited for the socket (0.65 of one core's MD5;
// 16/8: 0.72). Memory stays bounded by the node-wide budget (io.put_buffers_max).
const MAX_INFLIGHT = 16;
const RESUME_AT = 8;
const SYNC_EVERY = 4 << 20;
/** Buffers one pwritev takes at most. */
const MAX_WRITEV = 8;

export interface PutParams {
  bucket: string;
  objName: string;
  props: BucketProps;
  /** Expected body size in bytes, -1 when unknown. */
  size: number;
  contentType?: string;
  meta?: Record<string, string>;
  /** Object tags (x-amz-tagging), stored in the LOM. */
  tags?: TagSet;
  /** Hex MD5 from the Content-MD5 header, checked before the object is published. */
  contentMd5?: string;
  /** Where the finished file goes instead of the object's path (a multipart part, target/mpu.ts). */
  dst?: string;
  /** If-None-Match: * / If-Match, checked again when the object is published (target/conditions.ts). */
  cond?: PublishCondition;
  /** S3 flexible checksum: hashed with the others, checked before the object is published, stored. */
  flex?: FlexRequest;
  /** Hex sha256 the body must have (x-amz-content-sha256 a hash): XAmzContentSHA256Mismatch if it differs. */
  expectSha256?: string;
  /** Hex value of the bucket checksum the client computed (native Ais-Checksum-Value): BadDigest if it differs. */
  expectCksum?: string;
  /** Remote buckets: what the remote said about the object (its ETag is the one clients see), its mtime. */
  remote?: { etag: string; version?: string; mtime: number };
  /**
   * An object moved here by rebalance with its metadata (target/reb-recv.ts): the body is hashed with
   * the LOM's own checksum type and must match its value and size; the LOM is then stored as it came.
   */
  moved?: Lom;
}

export class PutError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Done = (err: PutError | undefined, lom?: Lom) => void;

/** A full buffer on its two ways: it returns to the pool when both are done. */
interface Chunk {
  buf: Uint8Array;
  position: number;
  pending: number;
}

export class PutStream {
  private readonly workPath: string;
  private readonly dst: string;
  private readonly direct: boolean;
  private readonly hashes: HashSlot[];
  private readonly cksumSlot: number;
  private readonly md5Slot: number;
  private readonly flexSlot: number;
  /** Expected flexible checksum (base64): from the header, or set by expectChecksum() from a trailer. */
  private flexExpected: string | undefined;
  /** -1 until the first full buffer opens the work file; objects of one buffer never open it here. */
  private fd = -1;
  private opening = false;
  private buf: Uint8Array | undefined;
  private fill = 0;
  private position = 0;
  private readonly toWrite: Chunk[] = [];
  /** Created with the first full buffer (objects of one buffer are hashed by the final task). */
  private strand: HashStrand | undefined;
  /** Buffers pushed to the strand and not yet reported hashed, in order. */
  private readonly hashing: Chunk[] = [];
  private writes = 0;
  /** A writev of this upload is in flight (see pumpWrites). */
  private writing = false;
  /** Bytes whose writes have completed, and how many of them an fdatasync has covered (or is covering). */
  private written = 0;
  private synced = 0;
  private syncing = false;
  private inflight = 0;
  private final: PutChunkTask | undefined;
  private finalizing = false;
  private paused = false;
  /** Paused and queued on the node's PUT budget. */
  private waiting = false;
  private ended = false;
  private failed = false;
  private succeeded = false;
  private received = 0;

  constructor(
    private readonly target: Target,
    private readonly res: HttpResponse,
    private readonly req: Req,
    private readonly p: PutParams,
    private readonly done: Done,
  ) {
    const mp = target.mountpathFor(p.bucket, p.objName);
    this.dst = p.dst ?? target.objectFile(mp, p.bucket, p.objName);
    this.workPath = target.workFile(mp, p.bucket, 'put');
    // O_DIRECT only when the object is fsynced anyway; without the fsync the page cache answers at
    // memory speed and writes back behind (numbers: docs/architecture.md, PUT).
    this.direct = mp.direct && target.config.io.fsync_put && p.size >= target.putBufs.size;
    const kinds: HashKind[] = [];
    // A moved object keeps its own checksum type (the bucket's may have changed since it was written).
    const ck = p.moved ? { type: p.moved.cksumType, md5_etag: false } : p.props.checksum;
    if (ck.type !== 'none') kinds.push(ck.type);
    if ((ck.md5_etag || p.contentMd5 !== undefined) && ck.type !== 'md5') kinds.push('md5');
    if (p.flex && !kinds.includes(p.flex.alg)) kinds.push(p.flex.alg);
    if (p.expectSha256 !== undefined && !kinds.includes('sha256')) kinds.push('sha256');
    this.cksumSlot = ck.type === 'none' ? -1 : 0;
    this.md5Slot = kinds.indexOf('md5');
    this.flexSlot = p.flex ? kinds.indexOf(p.flex.alg) : -1;
    this.flexExpected = p.flex?.expected;
    this.hashes = sharedStates(kinds);
    req.onAbort = () => this.fail(new PutError('Aborted', 'client went away'));
  }

  /** uWS onData: copy out of the transient chunk, send full buffers on their way. */
  onData(chunk: Uint8Array, isLast: boolean): void {
    if (this.failed || this.ended) return;
    this.received += chunk.length;
    if (this.p.size >= 0 && this.received > this.p.size) {
      this.fail(new PutError('InvalidRequest', 'body longer than declared'));
      return;
    }
    const size = this.target.putBufs.size;
    let off = 0;
    while (off < chunk.length) {
      if (!this.buf) this.buf = this.target.putBufs.get();
      const n = Math.min(size - this.fill, chunk.length - off);
      this.buf.set(chunk.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      // A full buffer that ends the body is kept for the final task.
      if (this.fill === size && !(isLast && off === chunk.length)) this.dispatchFull();
    }
    if (!isLast) return;
    if (this.p.size >= 0 && this.received !== this.p.size) {
      this.fail(new PutError('IncompleteBody', `received ${this.received} of ${this.p.size} bytes`));
      return;
    }
    this.ended = true;
    // uWS may hand over the last bytes while the socket is paused; resume it now, while the response
    // is still ours: a socket left paused does not read the next request on the keep-alive connection,
    // which then hangs until the idle timeout resets it.
    if (this.paused) this.resume();
    this.final = {
      workPath: this.workPath,
      fd: -1,
      direct: this.direct,
      buf: this.buf ?? this.target.putBufs.get(),
      len: this.fill,
      position: this.position,
      hashes: this.hashes,
      final: {
        dst: this.dst,
        lom: {
          cksumType: this.p.props.checksum.type,
          mtime: Date.now(),
          ...(this.p.contentType ? { contentType: this.p.contentType } : {}),
          ...(this.p.meta && Object.keys(this.p.meta).length ? { meta: this.p.meta } : {}),
          ...(this.p.tags?.length ? { tags: this.p.tags } : {}),
          ...(this.dst.includes('/%ln/') ? { name: this.p.objName } : {}),
          ...(this.p.remote ? { etag: this.p.remote.etag, mtime: this.p.remote.mtime, remote: { etag: this.p.remote.etag, ...(this.p.remote.version ? { version: this.p.remote.version } : {}) } } : {}),
        },
        cksumSlot: this.cksumSlot,
        md5Slot: this.md5Slot,
        storeMd5: this.p.props.checksum.md5_etag,
        ...(this.p.contentMd5 !== undefined ? { expectMd5: this.p.contentMd5 } : {}),
        ...(this.p.expectCksum !== undefined ? { expectCksum: this.p.expectCksum } : {}),
        ...(this.p.expectSha256 !== undefined ? { expectSha256: { slot: this.hashes.findIndex((h) => h.kind === 'sha256'), value: this.p.expectSha256 } } : {}),
        ...(this.p.moved ? { keep: this.p.moved } : {}),
        ...(this.p.cond ? { cond: this.p.cond } : {}),
        ...(this.p.flex ? { flex: { slot: this.flexSlot, alg: this.p.flex.alg, ...(this.flexExpected !== undefined ? { expected: this.flexExpected } : {}) } } : {}),
        fsync: this.target.config.io.fsync_put,
      },
    };
    this.buf = undefined;
    this.maybeFinalize();
  }

  /** The flexible checksum the body must have, known only at its end (aws-chunked trailer); call
   *  before the last onData(). */
  expectChecksum(base64: string): void {
    this.flexExpected = base64;
  }

  /** The body turned out to be invalid (e.g. malformed aws-chunked framing): drop the upload. */
  abort(code: string, message: string): void {
    this.fail(new PutError(code, message));
  }

  private dispatchFull(): void {
    const c: Chunk = { buf: this.buf!, position: this.position, pending: 2 };
    this.position += this.fill;
    this.buf = undefined;
    this.fill = 0;
    this.inflight++;
    const overBudget = this.target.putBudget.take();
    if (!this.paused && (this.inflight >= MAX_INFLIGHT || overBudget)) {
      this.paused = true;
      this.res.pause();
    }
    this.toWrite.push(c);
    this.pumpWrites();
    this.strand ??= hashStrand(this.hashes, (n) => {
      for (const done of this.hashing.splice(0, n)) this.release(done);
    });
    this.hashing.push(c);
    this.strand.push(c.buf);
  }

  /**
   * One write in flight per upload, in order, taking every buffer queued behind it in one pwritev:
   * concurrent O_DIRECT writes extending one file stalled for 1.4–2.6 s at a time on this ext4/virtio
   * VM (one writer: 1,300 MiB/s, worst 64 MiB file 80 ms; see docs/architecture.md, PUT).
   */
  private pumpWrites(): void {
    if (this.failed) {
      for (const c of this.toWrite.splice(0)) this.release(c);
      return;
    }
    if (this.fd < 0) {
      if (!this.opening) this.open();
      return;
    }
    if (this.writing || this.toWrite.length === 0) return;
    const batch = this.toWrite.splice(0, MAX_WRITEV);
    this.writing = true;
    this.writes++;
    fs.writev(this.fd, batch.map((c) => c.buf), batch[0].position, (err, n) => {
      this.writing = false;
      this.writes--;
      const want = batch.reduce((sum, c) => sum + c.buf.length, 0);
      if (err) this.fail(new PutError(err.code ?? 'EIO', err.message));
      else if (n !== want) this.fail(new PutError('ENOSPC', `short write: ${n} of ${want} bytes`));
      else {
        this.written += n;
        this.syncBehind();
      }
      for (const c of batch) this.release(c);
      this.pumpWrites();
    });
  }

  /**
   * With fsync on, flush what is written every SYNC_EVERY bytes while the body still arrives. An fsync
   * costs in proportion to the bytes not yet on stable storage (a virtual disk acknowledges even O_DIRECT
   * writes from the host's cache: the fsync of a 64 MiB object took ~50 ms here), so the final fsync,
   * which the client waits for, is left with the tail only (3–7 ms instead of ~50). One at a time; the
   * final task waits for it.
   */
  private syncBehind(): void {
    if (this.syncing || this.failed || !this.target.config.io.fsync_put || this.written - this.synced < SYNC_EVERY) return;
    this.syncing = true;
    this.writes++; // keeps the fd open: cleanup waits for writes
    const upTo = this.written;
    fs.fdatasync(this.fd, (err) => {
      this.syncing = false;
      this.writes--;
      if (err) this.fail(new PutError(err.code ?? 'EIO', err.message));
      else this.synced = upTo;
      if (this.failed) return this.cleanup();
      this.syncBehind();
      this.maybeFinalize();
    });
  }

  private open(): void {
    this.opening = true;
    const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (this.direct ? fs.constants.O_DIRECT : 0);
    fs.open(this.workPath, flags, 0o644, (err, fd) => {
      this.opening = false;
      if (err) {
        this.fail(new PutError(err.code ?? 'EIO', err.message));
        for (const c of this.toWrite.splice(0)) this.release(c);
        return;
      }
      this.fd = fd;
      this.pumpWrites(); // after a failure: returns the queued buffers
      if (this.failed) this.cleanup();
    });
  }

  private release(c: Chunk): void {
    if (--c.pending > 0) return;
    this.target.putBufs.put(c.buf);
    this.inflight--;
    this.target.putBudget.give();
    // Once the whole body is in (ended), nothing is left to resume: the response may be out already.
    if (this.paused && this.inflight <= RESUME_AT && !this.ended && !this.req.aborted && !this.failed) {
      if (!this.target.putBudget.over()) this.resume();
      else if (!this.waiting) {
        // The node is over its budget: wait for a buffer to come back anywhere (see put-budget.ts).
        this.waiting = true;
        this.target.putBudget.wait(() => {
          this.waiting = false;
          if (!this.paused || this.ended || this.req.aborted || this.failed) return false;
          this.resume();
          return true;
        });
      }
    }
    if (this.failed) {
      if (this.inflight === 0) this.cleanup();
      return;
    }
    this.maybeFinalize();
  }

  private resume(): void {
    this.paused = false;
    this.res.resume();
  }

  /** The final task runs once every earlier buffer is hashed and written. */
  private maybeFinalize(): void {
    if (!this.final || this.finalizing || this.failed || this.inflight > 0 || this.opening || this.syncing) return;
    this.finalizing = true;
    const task = this.final;
    task.fd = this.fd;
    (this.target.pool.run(task, { name: 'putChunk' }) as Promise<PutChunkResult>).then(
      (r) => this.finalized(task, r),
      (err: Error) => this.finalized(task, { fd: -1, error: 'EIO', message: err.message }),
    );
  }

  private finalized(task: PutChunkTask, r: PutChunkResult): void {
    this.target.putBufs.put(task.buf);
    this.fd = r.fd; // the task closed it (or removed the work file on error)
    if (r.error !== undefined) return this.fail(new PutError(r.error, r.message));
    if (this.failed) return this.cleanup();
    this.succeeded = true;
    this.done(undefined, r.done?.lom);
  }

  private fail(err: PutError): void {
    if (this.failed || this.succeeded) return;
    this.failed = true;
    // The error answer goes out before the body is read to its end: uWS then reads and drops the rest,
    // which a paused socket would never do (and never read the next request either).
    if (this.paused && !this.req.aborted) this.resume();
    if (this.buf) this.target.putBufs.put(this.buf);
    this.buf = undefined;
    if (this.final && !this.finalizing) this.target.putBufs.put(this.final.buf);
    // Buffers still being written or hashed come back through release(); cleanup runs when none are left.
    this.strand?.drop();
    if (this.inflight === 0 && !this.finalizing) this.cleanup();
    this.done(err);
  }

  /** Nothing half-written survives a failed PUT: the work file goes, the old object stays. */
  private cleanup(): void {
    if (this.opening || this.writes > 0) return; // called again when they settle
    const fd = this.fd;
    this.fd = -1;
    if (fd >= 0) fs.close(fd, () => fs.rm(this.workPath, { force: true }, () => {}));
    else fs.rm(this.workPath, { force: true }, () => {});
  }
}

/** Hash states of one upload in one small SharedArrayBuffer: any worker continues them in place. */
function sharedStates(kinds: readonly HashKind[]): HashSlot[] {
  const inits = kinds.map((k) => hashInit(k));
  const sab = new SharedArrayBuffer(inits.reduce((n, s) => n + s.length, 0) || 8);
  let off = 0;
  return kinds.map((kind, i) => {
    const state = new Uint8Array(sab, off, inits[i].length);
    state.set(inits[i]);
    off += inits[i].length;
    return { kind, state };
  });
}
