// PUT: body chunks from uWS are copied into pooled shared buffers (they are only valid inside the
// callback); each full buffer becomes one Piscina task that hashes it and writes it at its offset. Tasks
// of one upload run one at a time, in order, so the hash states advance in order; while one runs the
// socket keeps filling the next buffers, and the socket is paused when too many wait (back-pressure).
// The last task finalizes the object (metadata, fsync, rename). The uWS thread never hashes or waits
// on the disk.
import fs from 'node:fs';
import { hashInit, type HashKind } from '../native';
import type { BucketProps } from '../cluster/config';
import type { Lom } from '../fs/lom';
import type { HttpResponse } from '../util/uws';
import type { Req } from '../api/http';
import type { PutChunkTask, PutChunkResult, HashSlot } from '../workers/put-chunk';
import type { Target } from './target';

const MAX_QUEUED = 4;
const RESUME_AT = 1;

export interface PutParams {
  bucket: string;
  objName: string;
  props: BucketProps;
  /** Expected body size in bytes, -1 when unknown. */
  size: number;
  contentType?: string;
  meta?: Record<string, string>;
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

export class PutStream {
  private readonly workPath: string;
  private readonly dst: string;
  private readonly direct: boolean;
  private readonly hashes: HashSlot[];
  private readonly cksumSlot: number;
  private readonly md5Slot: number;
  private fd = -1;
  private buf: Uint8Array | undefined;
  private fill = 0;
  private position = 0;
  private readonly queue: PutChunkTask[] = [];
  private inflight = false;
  private paused = false;
  private ended = false;
  private failed = false;
  private received = 0;

  constructor(
    private readonly target: Target,
    private readonly res: HttpResponse,
    private readonly req: Req,
    private readonly p: PutParams,
    private readonly done: Done,
  ) {
    const mp = target.mountpathFor(p.bucket, p.objName);
    this.dst = target.objectFile(mp, p.bucket, p.objName);
    this.workPath = target.workFile(mp, p.bucket, 'put');
    this.direct = mp.direct && p.size >= target.putBufs.size;
    const kinds: HashKind[] = [];
    const ck = p.props.checksum;
    if (ck.type !== 'none') kinds.push(ck.type);
    if (ck.md5_etag && ck.type !== 'md5') kinds.push('md5');
    this.cksumSlot = ck.type === 'none' ? -1 : 0;
    this.md5Slot = ck.md5_etag ? kinds.indexOf('md5') : -1;
    this.hashes = sharedStates(kinds);
    req.onAbort = () => this.fail(new PutError('Aborted', 'client went away'));
  }

  /** uWS onData: copy out of the transient chunk, hand full buffers to the pool. */
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
      if (this.fill === size && !(isLast && off === chunk.length)) this.submit(false);
    }
    if (isLast) {
      if (this.p.size >= 0 && this.received !== this.p.size) {
        this.fail(new PutError('IncompleteBody', `received ${this.received} of ${this.p.size} bytes`));
        return;
      }
      this.ended = true;
      this.submit(true);
    }
  }

  private submit(last: boolean): void {
    const buf = this.buf ?? this.target.putBufs.get();
    const task: PutChunkTask = {
      workPath: this.workPath,
      fd: -1,
      direct: this.direct,
      buf,
      len: this.fill,
      position: this.position,
      hashes: this.hashes,
    };
    if (last) {
      task.final = {
        dst: this.dst,
        lom: {
          cksumType: this.p.props.checksum.type,
          mtime: Date.now(),
          ...(this.p.contentType ? { contentType: this.p.contentType } : {}),
          ...(this.p.meta && Object.keys(this.p.meta).length ? { meta: this.p.meta } : {}),
          ...(this.dst.includes('/%ln/') ? { name: this.p.objName } : {}),
        },
        cksumSlot: this.cksumSlot,
        md5Slot: this.md5Slot,
        fsync: this.target.config.io.fsync_put,
      };
    }
    this.position += this.fill;
    this.buf = undefined;
    this.fill = 0;
    this.queue.push(task);
    if (!this.paused && !last && this.queue.length >= MAX_QUEUED) {
      this.paused = true;
      this.res.pause();
    }
    this.pump();
  }

  private pump(): void {
    if (this.inflight || this.queue.length === 0) return;
    const task = this.queue.shift()!;
    task.fd = this.fd;
    this.inflight = true;
    (this.target.pool.run(task, { name: 'putChunk' }) as Promise<PutChunkResult>).then(
      (r) => this.settled(task, r),
      (err: Error) => this.settled(task, { fd: -1, error: 'EIO', message: err.message }),
    );
  }

  private settled(task: PutChunkTask, r: PutChunkResult): void {
    this.inflight = false;
    this.target.putBufs.put(task.buf);
    this.fd = r.fd;
    if (r.error !== undefined) {
      this.fail(new PutError(r.error, r.message));
      return;
    }
    if (this.failed) {
      this.cleanup();
      return;
    }
    if (r.done) {
      this.done(undefined, r.done.lom);
      return;
    }
    if (this.paused && this.queue.length <= RESUME_AT && !this.req.aborted) {
      this.paused = false;
      this.res.resume();
    }
    this.pump();
  }

  /** The body turned out to be invalid (e.g. malformed aws-chunked framing): drop the upload. */
  abort(code: string, message: string): void {
    this.fail(new PutError(code, message));
  }

  private fail(err: PutError): void {
    if (this.failed) return;
    this.failed = true;
    for (const t of this.queue.splice(0)) this.target.putBufs.put(t.buf);
    if (this.buf) this.target.putBufs.put(this.buf);
    this.buf = undefined;
    if (!this.inflight) this.cleanup();
    this.done(err);
  }

  /** Nothing half-written survives a failed PUT: the work file goes, the old object stays. */
  private cleanup(): void {
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
