// The target's S3 object operations: PUT, GET, HEAD, DELETE. Protocol details (headers, ranges, error
// codes) live here; the byte streaming lives in put.ts and get.ts.
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { header, reply, endHead, type Req, type HeaderList } from '../api/http';
import type { BucketProps } from '../cluster/config';
import { etagOf, type Lom } from '../fs/lom';
import type { GetObjectOp, HeadObjectOp, PutObjectOp, DeleteObjectOp } from '../s3/ops';
import { s3err, noSuchKey, invalidRange, S3Error } from '../s3/errors';
import { expectedPayloadHash } from '../s3/sigv4-stream';
import { sendS3Error } from '../s3/reply';
import { parseRange, contentRange, contentRangeUnsatisfied } from '../s3/range';
import { httpDate } from '../s3/time';
import { validateObjectKey } from '../s3/names';
import { bodyShape, feedBody, userMeta } from './body';
import { PutStream, PutError } from './put';
import { streamObject, ChecksumMismatch } from './get';
import type { Target } from './target';
import { conditionHeaders, evaluateLom, objectPaths, preconditionFailed, putCondition, putConditionError } from './conditions';
import { parseTaggingHeader } from '../s3/tagging';
import { requestChecksum, checksumHeaders, checksumModeEnabled, parseContentMd5 } from '../s3/checksums';

const META_PREFIX = 'x-amz-meta-';

export function putObjectS3(target: Target, res: HttpResponse, req: Req, op: PutObjectOp, props: BucketProps): void {
  try {
    validateObjectKey(op.key);
    const { chunked, size } = bodyShape(req);
    const meta = userMeta(req);
    const tags = parseTaggingHeader(header(req, 'x-amz-tagging'));
    const contentMd5 = parseContentMd5(header(req, 'content-md5'));
    const flex = requestChecksum((n) => header(req, n), chunked);
    const cond = putCondition((n) => header(req, n), objectPaths(target, op.bucket, op.key));
    if (cond) checkPutNow(target, op, cond);
    const params = { bucket: op.bucket, objName: op.key, props, size, contentType: header(req, 'content-type') || undefined, meta, tags, contentMd5, cond, flex, expectSha256: expectedPayloadHash(req) };
    const stream = new PutStream(target, res, req, params, (err, lom) => {
      if (err) {
        target.stats.errPutCount++;
        if (!req.aborted) sendS3Error(res, req, putErrorToS3(err, op));
        return;
      }
      target.stats.putCount++;
      target.stats.putBytes += lom!.size;
      const etag = etagOf(lom!);
      reply(res, req, '200 OK', [...(etag ? [['ETag', `"${etag}"`] as [string, string]] : []), ...checksumHeaders(lom!.flex)]);
    });
    feedBody(res, req, stream, chunked, flex);
  } catch (err) {
    sendS3Error(res, req, err);
  }
}



/** Fail fast on a conditional PUT, before the body is read; checked again at publish time. */
function checkPutNow(target: Target, op: PutObjectOp, cond: NonNullable<ReturnType<typeof putCondition>>): void {
  const h = target.openObject(op.bucket, op.key);
  if (h) closeQuietly(h.fd);
  const bad = putConditionError(cond, h?.lom);
  if (bad?.code === 'NoSuchKey') throw noSuchKey(op.bucket, op.key);
  if (bad) throw preconditionFailed(bad.condition);
}

export function putErrorToS3(err: PutError, op: PutObjectOp): S3Error {
  switch (err.code) {
    case 'PreconditionFailed':
      return preconditionFailed(err.message.startsWith('If-Match') ? 'If-Match' : 'If-None-Match');
    case 'NoSuchKey':
      return noSuchKey(op.bucket, op.key);
    case 'BadDigest':
      return s3err('BadDigest', err.message);
    case 'SignatureDoesNotMatch': // SigV4: a chunk or trailer signature, or the signed body hash (s3/sigv4-stream.ts)
    case 'XAmzContentSHA256Mismatch':
      return s3err(err.code, err.message);
    case 'InvalidArgument':
    case 'MetadataTooLarge':
      return s3err(err.code, err.message);
    case 'ENAMECONFLICT':
      return s3err('XTaisObjectNameConflict', `"${op.key}" cannot be stored: an object and a folder of objects would share a name (e.g. "a" and "a/b")`, { Key: op.key });
    case 'IncompleteBody':
      return s3err('IncompleteBody', err.message);
    case 'InvalidRequest':
      return s3err('InvalidRequest', err.message);
    case 'ENOSPC':
      return s3err('ServiceUnavailable', 'no space left on the mountpath');
    case 'ENAMETOOLONG':
      return s3err('KeyTooLongError');
    default:
      return new S3Error('InternalError', `PUT failed: ${err.code}`);
  }
}


export function objectHeaders(lom: Lom, contentType?: string): [string, string][] {
  const h: [string, string][] = [
    ['Accept-Ranges', 'bytes'],
    ['Last-Modified', httpDate(lom.mtime)],
    ['Content-Type', contentType ?? lom.contentType ?? 'application/octet-stream'],
  ];
  const etag = etagOf(lom);
  if (etag) h.push(['ETag', `"${etag}"`]);
  if (lom.meta) for (const [k, v] of Object.entries(lom.meta)) h.push([META_PREFIX + k, v]);
  if (lom.tags?.length) h.push(['x-amz-tagging-count', String(lom.tags.length)]);
  return h;
}

export function getObjectS3(target: Target, res: HttpResponse, req: Req, op: GetObjectOp | HeadObjectOp, props: BucketProps): void {
  let h;
  try {
    validateObjectKey(op.key);
    h = target.openForRead(op.bucket, op.key);
    if (!h) throw noSuchKey(op.bucket, op.key);
    const verdict = evaluateLom(conditionHeaders((n) => header(req, n)), h.lom);
    if (!verdict.ok) {
      if (verdict.status === 412) throw preconditionFailed(verdict.condition);
      const lom = h.lom;
      target.closeObject(h);
      h = undefined;
      return notModified(res, req, lom);
    }
    const size = h.lom.size;
    if (op.partNumber !== undefined && op.partNumber !== 1) throw s3err('InvalidPartNumber');
    const headers = objectHeaders(h.lom, op.kind === 'GetObject' ? op.responseOverrides.contentType : undefined);
    if (op.kind === 'GetObject') addOverrides(headers, op);
    const rangeHeader = header(req, 'range');
    const range = rangeHeader && op.partNumber === undefined ? parseRange(rangeHeader, size) : null;
    if (range === 'unsatisfiable') {
      throw Object.assign(invalidRange(rangeHeader, size), { headers: [['Content-Range', contentRangeUnsatisfied(size)]] });
    }
    let status = '200 OK';
    let start = 0;
    let length = size;
    if (range) {
      status = '206 Partial Content';
      start = range.start;
      length = range.end - range.start + 1;
      headers.push(['Content-Range', contentRange(range.start, range.end, size)]);
    } else if (checksumModeEnabled((n) => header(req, n))) {
      // The whole object's checksum, as S3: not for a range (the client could not check it).
      headers.push(...checksumHeaders(h.lom.flex));
    }
    if (op.kind === 'HeadObject') {
      target.stats.headCount++;
      const done = h;
      h = undefined;
      target.closeObject(done);
      if (req.aborted) return;
      res.cork(() => {
        res.writeStatus(status);
        for (const [k, v] of headers) res.writeHeader(k, v);
        res.writeHeader('x-amz-request-id', req.id);
        endHead(res, length);
      });
      return;
    }
    headers.push(['x-amz-request-id', req.id]);
    const verify = props.checksum.validate_warm_get && length === size;
    const handle = h;
    h = undefined;
    streamObject(target, res, req, handle, { status, headers, start, length, verify }, (err) => {
      target.stats.errGetCount++;
      sendS3Error(res, req, err instanceof ChecksumMismatch ? new S3Error('InternalError', err.message) : err);
    });
  } catch (err) {
    if (h) target.closeObject(h);
    const extra = (err as { headers?: HeaderList }).headers ?? [];
    sendS3Error(res, req, err, extra);
  }
}

/** 304: no body; the validators the client caches with (S3 sends ETag and Last-Modified). */
function notModified(res: HttpResponse, req: Req, lom: Lom): void {
  const h: [string, string][] = [['Last-Modified', httpDate(lom.mtime)]];
  const etag = etagOf(lom);
  if (etag) h.push(['ETag', `"${etag}"`]);
  if (req.aborted) return;
  res.cork(() => {
    res.writeStatus('304 Not Modified');
    for (const [k, v] of h) res.writeHeader(k, v);
    res.writeHeader('x-amz-request-id', req.id);
    res.endWithoutBody();
  });
}

function addOverrides(headers: [string, string][], op: GetObjectOp): void {
  const o = op.responseOverrides;
  const set = (name: string, v: string | undefined): void => {
    if (v === undefined) return;
    const i = headers.findIndex(([k]) => k.toLowerCase() === name.toLowerCase());
    if (i >= 0) headers.splice(i, 1);
    headers.push([name, v]);
  };
  set('Content-Language', o.contentLanguage);
  set('Expires', o.expires);
  set('Cache-Control', o.cacheControl);
  set('Content-Disposition', o.contentDisposition);
  set('Content-Encoding', o.contentEncoding);
}

function closeQuietly(fd: number): void {
  fs.close(fd, () => {});
}

export async function deleteObjectS3(target: Target, res: HttpResponse, req: Req, op: DeleteObjectOp): Promise<void> {
  try {
    validateObjectKey(op.key);
    // S3: deleting a key that does not exist succeeds (204), unlike AIStore's 404.
    if (await target.deleteObject(op.bucket, op.key)) target.stats.delCount++;
    reply(res, req, '204 No Content', []);
  } catch (err) {
    sendS3Error(res, req, err);
  }
}
