// UploadPartCopy: PUT /bucket/key?partNumber=N&uploadId=U with x-amz-copy-source (and optionally
// x-amz-copy-source-range). Runs on the upload's owner target; the part is written exactly as an
// uploaded one (part file, MD5 ETag, CRC32C, the upload's flexible checksum) from a source that is on
// this target (pool tasks, copy.ts) or on another one (an intra-cluster GET, copy-remote.ts).
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import type { Lom } from '../fs/lom';
import type { UploadPartCopyOp } from '../s3/ops';
import type { Snode } from '../cluster/snode';
import { s3err, noSuchKey, noSuchUpload, S3Error } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { validateObjectKey } from '../s3/names';
import { copyResultXml } from '../s3/object-xml';
import { conditionHeaders, evaluateLom, preconditionFailed } from './conditions';
import { copyLocal, CopyTaskError } from './copy';
import { openRemoteSource, putFromSource } from './copy-remote';
import { mpuStore, PART_PROPS, MAX_PART_SIZE, type Upload } from './mpu';
import type { PutError } from './put';
import type { ObjectHandle, Target } from './target';

type Range = { start: number; end: number };

/** `from`: the source's owner when it is another target; undefined when the source is here. */
export function uploadPartCopyS3(target: Target, secret: string, from: Snode | undefined, res: HttpResponse, req: Req, op: UploadPartCopyOp): void {
  res.onData(() => {}); // no body
  let h: ObjectHandle | undefined;
  try {
    validateObjectKey(op.key);
    const store = mpuStore(target);
    const u = store.find(op.bucket, op.key, op.uploadId);
    if (store.isCompleting(u.id)) throw noSuchUpload(u.id);
    const src = op.copySource;
    if (src.versionId !== undefined && src.versionId !== 'null') {
      throw s3err('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: src.versionId });
    }
    const range = op.copySourceRange;
    if (range && range.end - range.start + 1 > MAX_PART_SIZE) throw tooLarge();
    const done = (lom: Lom): void => {
      target.stats.putCount++;
      target.stats.putBytes += lom.size;
      reply(res, req, '200 OK', [['Content-Type', 'application/xml']], copyResultXml('CopyPartResult', lom.mtime, lom.md5 ?? '', lom.flex));
    };
    const failed = (err: unknown): void => {
      target.stats.errPutCount++;
      if (!req.aborted) sendS3Error(res, req, err);
    };
    if (from !== undefined) return copyRemote(target, secret, from, req, op, u, done, failed);

    h = target.openObject(src.bucket, src.key);
    if (!h) throw noSuchKey(src.bucket, src.key);
    const verdict = evaluateLom(conditionHeaders((n) => header(req, n), 'x-amz-copy-source-'), h.lom);
    // A copy has no 304: every failed copy-source condition is 412.
    if (!verdict.ok) throw preconditionFailed('x-amz-copy-source-' + verdict.condition);
    const size = h.lom.size;
    if (range && range.end >= size) throw invalidCopyRange(range, size);
    const length = range ? range.end - range.start + 1 : size;
    if (length > MAX_PART_SIZE) throw tooLarge();
    const handle = h;
    h = undefined;
    const out = {
      bucket: op.bucket,
      key: op.key,
      dst: store.partPath(u, op.partNumber),
      props: PART_PROPS,
      ...(u.checksum ? { flex: u.checksum.alg } : {}),
      start: range?.start ?? 0,
      length,
    };
    copyLocal(target, handle, out).then(
      (lom) => {
        fs.close(handle.fd, () => {});
        done(lom);
      },
      (err: unknown) => {
        fs.close(handle.fd, () => {});
        failed(err instanceof CopyTaskError ? partCopyError(err.code, err.message, u) : err);
      },
    );
  } catch (err) {
    if (h) fs.close(h.fd, () => {});
    sendS3Error(res, req, err);
  }
}

function copyRemote(target: Target, secret: string, from: Snode, req: Req, op: UploadPartCopyOp, u: Upload, done: (lom: Lom) => void, failed: (err: unknown) => void): void {
  const range = op.copySourceRange;
  openRemoteSource(secret, from, req, op.copySource, range).then((ur) => {
    const size = Number(ur.headers['content-length'] ?? -1);
    // An HTTP range past the end is cut to the object's end; a copy-source range must lie inside it.
    const total = Number(/\/(\d+)$/.exec(ur.headers['content-range'] ?? '')?.[1] ?? NaN);
    if (range && !(range.end < total)) {
      ur.destroy();
      return failed(invalidCopyRange(range, Number.isNaN(total) ? undefined : total));
    }
    if (size > MAX_PART_SIZE) {
      ur.destroy();
      return failed(tooLarge());
    }
    const params = { bucket: op.bucket, objName: op.key, props: PART_PROPS, size, dst: mpuStore(target).partPath(u, op.partNumber), ...(u.checksum ? { flex: { alg: u.checksum.alg } } : {}) };
    putFromSource(target, req, ur, params, (err: PutError | undefined, lom?: Lom) => (err ? failed(partCopyError(err.code, err.message, u)) : done(lom!)));
  }, (err: unknown) => failed(err instanceof S3Error && err.code === 'InvalidRange' && range ? invalidCopyRange(range, undefined) : err));
}

function invalidCopyRange(range: Range, size: number | undefined): S3Error {
  return s3err('InvalidRange', size === undefined ? 'The requested range is not satisfiable' : `Range specified is not valid for source object of size: ${size}`, {
    RangeRequested: `bytes=${range.start}-${range.end}`,
    ...(size === undefined ? {} : { ActualObjectSize: String(size) }),
  });
}

function tooLarge(): S3Error {
  return s3err('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PART_SIZE}`);
}

function partCopyError(code: string, message: string, u: Upload): S3Error {
  switch (code) {
    case 'SourceCorrupted':
      return new S3Error('InternalError', `The source object could not be read whole and was not copied (${message}).`);
    // The part's folder is gone: the upload was aborted (or completed) while the part was copied.
    case 'ENOENT':
      return noSuchUpload(u.id);
    case 'ENOSPC':
      return s3err('ServiceUnavailable', 'no space left on the mountpath');
    default:
      return new S3Error('InternalError', `UploadPartCopy failed: ${code}`);
  }
}
