// CopyObject: PUT /bucket/key with x-amz-copy-source. The source is opened once here (its metadata is
// what the copy-source conditions are checked against and what is copied); the bytes then stream in the
// Piscina pool (workers/copy-range.ts), one buffer at a time, verified against the source checksum and
// written through the PUT's own write/hash/finalize path: the destination gets its bucket's checksum and
// an MD5 ETag as a PUT would, and is published atomically (work file, then rename).
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import type { BucketProps } from '../cluster/config';
import { etagOf, type Lom } from '../fs/lom';
import { hashInit, type HashKind } from '../native';
import type { CopyObjectOp } from '../s3/ops';
import { s3err, noSuchKey, S3Error } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { copyResultXml } from '../s3/object-xml';
import type { HashSlot } from '../workers/put-chunk';
import type { CopyRangeTask, CopyRangeResult } from '../workers/copy-range';
import { conditionHeaders, evaluateLom, objectPaths, preconditionFailed, putCondition, putConditionError, type PublishCondition } from './conditions';
import { algFromName, type FlexAlg } from '../s3/checksums';
import { parseTaggingHeader, type TagSet } from '../s3/tagging';
import { userMeta } from './body';
import type { ObjectHandle, Target } from './target';

/** Bytes one pool task copies before it yields the worker (the copy continues in the next task). */
const TASK_BUDGET = 64 << 20;

const SELF_COPY =
  "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.";

/**
 * Where a copy publishes when it is not simply the destination object: a remote bucket's staging file,
 * which `finish` writes through to the remote and publishes (tgts3-remote.ts stagedRemote).
 */
export interface CopyDst {
  file: string;
  finish: (lom: Lom) => Promise<Lom>;
}

export function copyObjectS3(target: Target, res: HttpResponse, req: Req, op: CopyObjectOp, dstProps: BucketProps, to?: CopyDst): void {
  // A CopyObject request has no body; drain anything sent so the connection stays usable.
  res.onData(() => {});
  let h: ObjectHandle | undefined;
  try {
    const directive = header(req, 'x-amz-metadata-directive').toUpperCase() || 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw s3err('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: header(req, 'x-amz-metadata-directive') });
    }
    const src = op.copySource;
    if (src.versionId !== undefined && src.versionId !== 'null') {
      throw s3err('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: src.versionId });
    }
    if (src.bucket === op.bucket && src.key === op.key && directive !== 'REPLACE') throw s3err('InvalidRequest', SELF_COPY);
    h = target.openObject(src.bucket, src.key);
    if (!h) throw noSuchKey(src.bucket, src.key);
    const verdict = evaluateLom(conditionHeaders((n) => header(req, n), 'x-amz-copy-source-'), h.lom);
    // A copy has no 304: every failed copy-source condition is 412.
    if (!verdict.ok) throw preconditionFailed('x-amz-copy-source-' + verdict.condition);
    // Conditional write of the destination (If-None-Match: * / If-Match), as on PUT.
    const cond = putCondition((n) => header(req, n), objectPaths(target, op.bucket, op.key));
    if (cond) {
      const cur = target.openObject(op.bucket, op.key);
      if (cur) fs.close(cur.fd, () => {});
      const bad = putConditionError(cond, cur?.lom);
      if (bad?.code === 'NoSuchKey') throw noSuchKey(op.bucket, op.key);
      if (bad) throw preconditionFailed(bad.condition);
    }
    const tagging = taggingDirective(req);
    const meta = {
      ...(directive === 'COPY'
        ? { contentType: h.lom.contentType, meta: h.lom.meta }
        : { contentType: header(req, 'content-type') || undefined, meta: userMeta(req) }),
      tags: tagging === 'COPY' ? h.lom.tags : parseTaggingHeader(header(req, 'x-amz-tagging')),
      flex: copyChecksumAlg(req, h.lom.flex?.alg),
    };
    const handle = h;
    h = undefined;
    runCopy(target, handle, op, dstProps, meta, cond, to).then(
      (lom) => {
        fs.close(handle.fd, () => {});
        target.stats.putCount++;
        target.stats.putBytes += lom.size;
        reply(res, req, '200 OK', [['Content-Type', 'application/xml']], copyResultXml('CopyObjectResult', lom.mtime, etagOf(lom) ?? '', lom.flex));
      },
      (err: unknown) => {
        fs.close(handle.fd, () => {});
        target.stats.errPutCount++;
        sendS3Error(res, req, err);
      },
    );
  } catch (err) {
    if (h) fs.close(h.fd, () => {});
    sendS3Error(res, req, err);
  }
}

interface CopyMeta {
  contentType: string | undefined;
  meta: Record<string, string> | undefined;
  tags: TagSet | undefined;
  flex: FlexAlg | undefined;
}

/**
 * The flexible checksum a copy gets: x-amz-checksum-algorithm when the request names one, else the
 * source's algorithm (S3 keeps a source's checksum algorithm on copy). The value is computed over the
 * copied bytes — a copy is one write, so it is a full-object checksum even of a composite source.
 */
export function copyChecksumAlg(req: Req, source: FlexAlg | undefined): FlexAlg | undefined {
  const name = header(req, 'x-amz-checksum-algorithm');
  if (name === '') return source;
  const alg = algFromName(name);
  if (alg === undefined) throw s3err('InvalidRequest', 'Value for x-amz-checksum-algorithm header is invalid.');
  return alg;
}

/** x-amz-tagging-directive: COPY (the source's tags, the default) or REPLACE (x-amz-tagging's). */
export function taggingDirective(req: Req): 'COPY' | 'REPLACE' {
  const raw = header(req, 'x-amz-tagging-directive');
  const d = raw.toUpperCase() || 'COPY';
  if (d !== 'COPY' && d !== 'REPLACE') throw s3err('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: raw });
  return d;
}

/** Where and how a local copy writes: an object (CopyObject) or a multipart part (UploadPartCopy). */
export interface CopyOut {
  /** Bucket and name whose HRW mountpath holds the work file (the destination's). */
  bucket: string;
  key: string;
  /** Final path: the object file, or the part file of an upload. */
  dst: string;
  /** Checksum type and MD5 of the destination (a part: PART_PROPS). */
  props: BucketProps;
  contentType?: string;
  meta?: Record<string, string>;
  tags?: TagSet;
  /** Flexible checksum to compute and store (a part of an upload created with one). */
  flex?: FlexAlg;
  cond?: PublishCondition;
  /** Source bytes [start, start+length); the whole object is verified against its checksum, a range cannot be. */
  start: number;
  length: number;
}

function runCopy(target: Target, src: ObjectHandle, op: CopyObjectOp, props: BucketProps, m: CopyMeta, cond: ReturnType<typeof putCondition>, to: CopyDst | undefined): Promise<Lom> {
  const mp = target.mountpathFor(op.bucket, op.key);
  const out: CopyOut = {
    bucket: op.bucket,
    key: op.key,
    dst: to?.file ?? target.objectFile(mp, op.bucket, op.key),
    props,
    ...(m.contentType ? { contentType: m.contentType } : {}),
    ...(m.meta ? { meta: m.meta } : {}),
    ...(m.tags?.length ? { tags: m.tags } : {}),
    ...(m.flex ? { flex: m.flex } : {}),
    ...(cond ? { cond } : {}),
    start: 0,
    length: src.lom.size,
  };
  const copied = copyLocal(target, src, out).catch((err: unknown) => {
    throw err instanceof CopyTaskError ? copyError(err.code, err.message, op) : err;
  });
  return to ? copied.then(to.finish) : copied;
}

/** A copy task's error result: the caller maps it to the S3 error of its operation. */
export class CopyTaskError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Copies source bytes into `out.dst` in pool tasks; the destination is published by the last one. */
export async function copyLocal(target: Target, src: ObjectHandle, out: CopyOut): Promise<Lom> {
  const mp = target.mountpathFor(out.bucket, out.key);
  const kinds: HashKind[] = [];
  const ck = out.props.checksum;
  if (ck.type !== 'none') kinds.push(ck.type);
  if (ck.md5_etag && ck.type !== 'md5') kinds.push('md5');
  if (out.flex && !kinds.includes(out.flex)) kinds.push(out.flex);
  const whole = out.start === 0 && out.length === src.lom.size;
  const srcKind = whole && src.lom.cksumType !== 'none' ? (src.lom.cksumType as HashKind) : null;
  const states = sharedStates(srcKind ? [...kinds, srcKind] : kinds);
  const buf = target.putBufs.get();
  const task: CopyRangeTask = {
    srcFd: src.fd,
    srcStart: out.start,
    srcSize: out.length,
    srcKind,
    srcState: srcKind ? states[states.length - 1]!.state : null,
    srcExpect: src.lom.cksumValue,
    workPath: target.workFile(mp, out.bucket, 'copy'),
    fd: -1,
    direct: mp.direct && target.config.io.fsync_put && out.length >= buf.length, // as in put.ts
    buf,
    position: 0,
    budget: Math.max(buf.length, TASK_BUDGET - (TASK_BUDGET % buf.length)),
    hashes: states.slice(0, kinds.length),
    final: {
      dst: out.dst,
      lom: {
        cksumType: ck.type,
        mtime: Date.now(),
        ...(out.contentType ? { contentType: out.contentType } : {}),
        ...(out.meta && Object.keys(out.meta).length ? { meta: out.meta } : {}),
        ...(out.tags?.length ? { tags: out.tags } : {}),
        ...(out.dst.includes('/%ln/') ? { name: out.key } : {}),
      },
      cksumSlot: ck.type === 'none' ? -1 : 0,
      md5Slot: kinds.indexOf('md5'),
      storeMd5: ck.md5_etag,
      fsync: target.config.io.fsync_put,
      ...(out.cond ? { cond: out.cond } : {}),
      ...(out.flex ? { flex: { slot: kinds.indexOf(out.flex), alg: out.flex } } : {}),
    },
  };
  try {
    for (;;) {
      const r = (await target.pool.run(task, { name: 'copyRange' })) as CopyRangeResult;
      if (r.error !== undefined) throw new CopyTaskError(r.error, r.message);
      if (r.done) return r.done.lom;
      task.fd = r.fd;
      task.position = r.position;
    }
  } catch (err) {
    // A thrown task (not an error result) may leave the work file open: close and remove it.
    if (!(err instanceof CopyTaskError) && task.fd >= 0) fs.close(task.fd, () => fs.rm(task.workPath, { force: true }, () => {}));
    throw err;
  } finally {
    target.putBufs.put(buf);
  }
}

function copyError(code: string, message: string, op: CopyObjectOp): S3Error {
  switch (code) {
    case 'SourceCorrupted':
      return new S3Error('InternalError', `The source object is corrupted and was not copied (${message}).`);
    case 'PreconditionFailed':
      return preconditionFailed(message.startsWith('If-Match') ? 'If-Match' : 'If-None-Match');
    case 'NoSuchKey':
      return noSuchKey(op.bucket, op.key);
    case 'ENAMECONFLICT':
      return s3err('XTaisObjectNameConflict', `"${op.key}" cannot be stored: an object and a folder of objects would share a name (e.g. "a" and "a/b")`, { Key: op.key });
    case 'ENOSPC':
      return s3err('ServiceUnavailable', 'no space left on the mountpath');
    case 'ENAMETOOLONG':
      return s3err('KeyTooLongError');
    case 'MetadataTooLarge':
      return s3err('MetadataTooLarge', message);
    default:
      return new S3Error('InternalError', `copy failed: ${code}`);
  }
}

/** Hash states in one SharedArrayBuffer: the worker that runs the next task continues them in place. */
function sharedStates(kinds: readonly HashKind[]): HashSlot[] {
  const inits = kinds.map((k) => hashInit(k));
  const sab = new SharedArrayBuffer(inits.reduce((n, s) => n + s.length, 0) || 8);
  let off = 0;
  return kinds.map((kind, i) => {
    const state = new Uint8Array(sab, off, inits[i]!.length);
    state.set(inits[i]!);
    off += inits[i]!.length;
    return { kind, state };
  });
}
