// The target's S3 multipart operations: Create, UploadPart, Complete, Abort, ListParts,
// ListMultipartUploads, and GET/HEAD ?partNumber of a multipart object. Storage is in mpu.ts; a part's
// body takes the same streaming path as a PUT (put.ts) with the part file as its destination.
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { header, reply, endHead, type Req } from '../api/http';
import type { BucketProps } from '../cluster/config';
import type {
  AbortMultipartUploadOp,
  CompleteMultipartUploadOp,
  CreateMultipartUploadOp,
  GetObjectOp,
  HeadObjectOp,
  ListMultipartUploadsOp,
  ListPartsOp,
  UploadPartOp,
} from '../s3/ops';
import { s3err, noSuchKey, noSuchUpload, errorXml, S3Error } from '../s3/errors';
import { expectedPayloadHash } from '../s3/sigv4-stream';
import { sendS3Error, toS3Error } from '../s3/reply';
import { validateObjectKey } from '../s3/names';
import { XML_DECL } from '../s3/xml';
import { initiateMultipartUploadXml, completeMultipartUploadXml } from '../s3/object-xml';
import { CompleteBodyParser, listPartsXml, listUploadsXml, type UploadEntry, type CompletedPart } from '../s3/mpu-xml';
import type { Owner } from '../s3/list-xml';
import { readXmlBody } from '../s3/xml-body';
import { compareNames } from '../fs/fqn';
import { bodyShape, feedBody, userMeta } from './body';
import { PutStream, type PutError } from './put';
import { streamObject } from './get';
import { objectHeaders, getObjectS3 } from './tgts3';
import { conditionHeaders, evaluateLom, preconditionFailed } from './conditions';
import { httpDate } from '../s3/time';
import { mpuStore, PART_PROPS, MAX_PART_SIZE, type Upload } from './mpu';
import { completion } from './mpu-id';
import { partRange, partsCount, type MpuLom } from './mpu-parts';
import type { Target } from './target';
import { parseTaggingHeader } from '../s3/tagging';
import type { Lom } from '../fs/lom';
import { requestChecksum, uploadAlgorithm, checksumHeader, checkValue, parseContentMd5, type FlexRequest } from '../s3/checksums';

const OWNER: Owner = { id: 'tais', displayName: 'tais' };
const XML: readonly [string, string] = ['Content-Type', 'application/xml'];
/** A completion still running after this long answers 200 at once and keeps the connection alive with spaces. */
const KEEPALIVE_AFTER_MS = 1000;
const KEEPALIVE_EVERY_MS = 5000;

/** `holder`: this target's ID, named in the upload ID so that every gateway sends the upload's requests here. */
export async function createMultipartUploadS3(target: Target, res: HttpResponse, req: Req, op: CreateMultipartUploadOp, holder?: string): Promise<void> {
  validateObjectKey(op.key);
  res.onData(() => {}); // no body is expected; drain whatever comes
  const checksum = uploadAlgorithm((n) => header(req, n));
  const tags = parseTaggingHeader(header(req, 'x-amz-tagging'));
  const u = await mpuStore(target).create(op.bucket, op.key, header(req, 'content-type') || undefined, userMeta(req), checksum, tags, holder);
  const ck: [string, string][] = checksum ? [['x-amz-checksum-algorithm', checksum.alg.toUpperCase()], ['x-amz-checksum-type', checksum.type]] : [];
  reply(res, req, '200 OK', [XML, ...ck], initiateMultipartUploadXml(op.bucket, op.key, u.id));
}

export function uploadPartS3(target: Target, res: HttpResponse, req: Req, op: UploadPartOp): void {
  try {
    validateObjectKey(op.key);
    const store = mpuStore(target);
    const u = store.find(op.bucket, op.key, op.uploadId);
    if (store.isCompleting(u.id)) throw noSuchUpload(u.id);
    const { chunked, size } = bodyShape(req);
    if (size > MAX_PART_SIZE) throw s3err('EntityTooLarge', undefined, { ProposedSize: String(size), MaxSizeAllowed: String(MAX_PART_SIZE) });
    const contentMd5 = parseContentMd5(header(req, 'content-md5'));
    const flex = partChecksum(req, chunked, u.checksum?.alg);
    const params = { bucket: op.bucket, objName: op.key, props: PART_PROPS, size, contentMd5, dst: store.partPath(u, op.partNumber), flex, expectSha256: expectedPayloadHash(req) };
    const stream = new PutStream(target, res, req, params, (err, lom) => {
      if (err) {
        if (!req.aborted) sendS3Error(res, req, partError(err));
        return;
      }
      const f = lom!.flex;
      reply(res, req, '200 OK', [['ETag', `"${lom!.md5}"`], ...(f ? [[checksumHeader(f.alg), f.value] as [string, string]] : [])]);
    });
    feedBody(res, req, stream, chunked, flex);
  } catch (err) {
    sendS3Error(res, req, err);
  }
}

/** A part's flexible checksum: the one the request carries (checked), else the upload's algorithm (computed). */
function partChecksum(req: Req, chunked: boolean, uploadAlg: FlexRequest['alg'] | undefined): FlexRequest | undefined {
  const flex = requestChecksum((n) => header(req, n), chunked);
  if (uploadAlg === undefined) return flex;
  if (flex === undefined) return { alg: uploadAlg };
  if (flex.alg !== uploadAlg) {
    throw s3err('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${uploadAlg}, actual checksum Type: ${flex.alg}`);
  }
  return flex;
}

/** How a Complete ends beyond assembling the object here (prxs3.ts makes them for the node). */
export interface CompleteHooks {
  /** See MpuStore.complete: write through to a remote bucket, send to the object's owner. */
  settle?: (lom: MpuLom) => Promise<MpuLom>;
  /** A retried Complete whose upload is gone: the object an earlier one published, if it is on another target. */
  publishedElsewhere?: (etag: string, created: number) => Promise<Lom | undefined>;
}

export function completeMultipartUploadS3(target: Target, res: HttpResponse, req: Req, op: CompleteMultipartUploadOp, props: BucketProps, hooks: CompleteHooks = {}): void {
  let u: Upload | undefined;
  let gone: S3Error | undefined;
  let expectFull: string | undefined;
  try {
    validateObjectKey(op.key);
    try {
      u = mpuStore(target).find(op.bucket, op.key, op.uploadId);
    } catch (err) {
      // Perhaps completed already: a retry gets the same 200 if it lists the same parts (read below).
      if (!(err instanceof S3Error && err.code === 'NoSuchUpload')) throw err;
      gone = err;
    }
    const alg = u?.checksum?.alg;
    const given = alg === undefined ? '' : header(req, checksumHeader(alg)).trim();
    // The full object's value; a composite one may come with its "-N".
    if (alg !== undefined && given !== '') expectFull = u!.checksum!.type === 'FULL_OBJECT' ? checkValue(alg, given) : given;
  } catch (err) {
    sendS3Error(res, req, err);
    return;
  }
  const upload = u;
  const parser = new CompleteBodyParser();
  // No refusal by declared length: the parser stops at MAX_COMPLETE_BODY but the rest is still read, so
  // the client, still sending, gets its MalformedXML instead of a connection closed under it.
  readXmlBody(res, req, parser, undefined, (listed) => {
    const sums = parser.checksums();
    const parts = listed.map((p) => (sums.has(p.partNumber) ? { ...p, checksum: sums.get(p.partNumber)! } : p));
    if (upload === undefined) {
      void completedObject(target, op, parts, hooks).then(
        (done) => (done ? replyCompleted(res, req, op, done) : sendS3Error(res, req, gone)),
        (err: unknown) => sendS3Error(res, req, err),
      );
      return;
    }
    // Outside the uWS callback: promise reactions queued inside it may wait for the next event.
    setImmediate(() => void finishComplete(target, res, req, op, props, upload, parts, expectFull, hooks));
  });
}

/** The object a finished Complete of this upload listing `parts` published, here or (hooks) elsewhere. */
async function completedObject(target: Target, op: CompleteMultipartUploadOp, parts: readonly CompletedPart[], hooks: CompleteHooks): Promise<Lom | undefined> {
  const here = mpuStore(target).completedObject(op.bucket, op.key, op.uploadId, parts);
  if (here || !hooks.publishedElsewhere) return here;
  const want = completion(op.uploadId, parts);
  return want ? hooks.publishedElsewhere(want.etag, want.created) : undefined;
}

function completeResultXml(op: CompleteMultipartUploadOp, lom: Lom): string {
  const location = `/${encodeURIComponent(op.bucket)}/${op.key.split('/').map(encodeURIComponent).join('/')}`;
  return completeMultipartUploadXml(location, op.bucket, op.key, lom.etag!, lom.flex);
}

function replyCompleted(res: HttpResponse, req: Req, op: CompleteMultipartUploadOp, lom: Lom): void {
  reply(res, req, '200 OK', [XML, ['ETag', `"${lom.etag}"`]], completeResultXml(op, lom));
}

async function finishComplete(
  target: Target,
  res: HttpResponse,
  req: Req,
  op: CompleteMultipartUploadOp,
  props: BucketProps,
  u: Upload,
  parts: CompletedPart[],
  expectFull: string | undefined,
  hooks: CompleteHooks,
): Promise<void> {
  // Past the checks, S3 answers 200 at once and sends spaces while it works, so that clients do not time
  // out on large objects; errors then come inside the 200 body (SDKs look for them there).
  let headersSent = false;
  let timer: NodeJS.Timeout | undefined;
  const keepAlive = (): void => {
    if (req.aborted) return;
    res.cork(() => {
      if (!headersSent) {
        headersSent = true;
        res.writeStatus('200 OK');
        res.writeHeader('Content-Type', 'application/xml');
        res.writeHeader('x-amz-request-id', req.id);
        res.write(XML_DECL);
      } else res.write(' ');
    });
    timer = setTimeout(keepAlive, KEEPALIVE_EVERY_MS);
  };
  const store = mpuStore(target);
  let published = false;
  try {
    const lom = await store
      .complete(
        u,
        parts,
        props,
        () => {
          timer = setTimeout(keepAlive, KEEPALIVE_AFTER_MS);
        },
        expectFull,
        hooks.settle,
      )
      .then(
        (lom) => ((published = true), lom),
        async (err: unknown) => {
          // Another Complete of this upload (maybe on another HTTP thread) finished while this one
          // waited for it: the same 200 if it published what this one lists, as S3 answers a retry.
          const done = err instanceof S3Error && err.code === 'NoSuchUpload' ? await completedObject(target, op, parts, hooks) : undefined;
          if (done) return done;
          throw err;
        },
      );
    clearTimeout(timer);
    if (published) {
      target.stats.putCount++;
      target.stats.putBytes += lom.size;
    }
    const body = completeResultXml(op, lom);
    if (!headersSent) return replyCompleted(res, req, op, lom);
    if (!req.aborted) res.cork(() => res.end(body.slice(XML_DECL.length)));
  } catch (err) {
    clearTimeout(timer);
    target.stats.errPutCount++;
    if (!headersSent) return sendS3Error(res, req, err);
    if (!req.aborted) res.cork(() => res.end(errorXml(toS3Error(err, req), req.id).slice(XML_DECL.length)));
  }
}

export async function abortMultipartUploadS3(target: Target, res: HttpResponse, req: Req, op: AbortMultipartUploadOp): Promise<void> {
  validateObjectKey(op.key);
  const store = mpuStore(target);
  const u = store.find(op.bucket, op.key, op.uploadId);
  await store.abort(u);
  reply(res, req, '204 No Content', []);
}

export async function listPartsS3(target: Target, res: HttpResponse, req: Req, op: ListPartsOp): Promise<void> {
  validateObjectKey(op.key);
  const store = mpuStore(target);
  const u = store.find(op.bucket, op.key, op.uploadId);
  const all = (await store.parts(u)).filter((p) => p.partNumber > op.partNumberMarker);
  const parts = all.slice(0, op.maxParts);
  const body = listPartsXml(
    {
      bucket: op.bucket,
      key: op.key,
      uploadId: u.id,
      partNumberMarker: op.partNumberMarker,
      maxParts: op.maxParts,
      parts,
      isTruncated: all.length > parts.length,
      ...(u.checksum ? { checksum: u.checksum } : {}),
    },
    OWNER,
  );
  reply(res, req, '200 OK', [XML], body);
}

/** `all`: the bucket's uploads in progress (on every target), by key then upload id. */
export function listMultipartUploadsS3(all: readonly UploadEntry[], res: HttpResponse, req: Req, op: ListMultipartUploadsOp): void {
  const uploads: UploadEntry[] = [];
  const commonPrefixes: string[] = [];
  let truncated = false;
  let nextKeyMarker = '';
  let nextUploadIdMarker = '';
  for (const e of all) {
    if (!e.key.startsWith(op.prefix)) continue;
    if (op.keyMarker !== '') {
      const c = compareNames(e.key, op.keyMarker);
      if (c < 0 || (c === 0 && (op.uploadIdMarker === '' || e.uploadId <= op.uploadIdMarker))) continue;
    }
    let cp: string | undefined;
    if (op.delimiter !== '') {
      const i = e.key.indexOf(op.delimiter, op.prefix.length);
      if (i >= 0) cp = e.key.slice(0, i + op.delimiter.length);
    }
    if (cp !== undefined && (cp === commonPrefixes[commonPrefixes.length - 1] || (op.keyMarker.startsWith(cp) && compareNames(cp, op.keyMarker) <= 0))) continue;
    if (uploads.length + commonPrefixes.length >= op.maxUploads) {
      truncated = true;
      break;
    }
    if (cp !== undefined) {
      commonPrefixes.push(cp);
      nextKeyMarker = cp;
      nextUploadIdMarker = '';
    } else {
      uploads.push(e);
      nextKeyMarker = e.key;
      nextUploadIdMarker = e.uploadId;
    }
  }
  const body = listUploadsXml(
    {
      bucket: op.bucket,
      prefix: op.prefix,
      delimiter: op.delimiter,
      keyMarker: op.keyMarker,
      uploadIdMarker: op.uploadIdMarker,
      maxUploads: op.maxUploads,
      encodingType: op.encodingType,
      uploads,
      commonPrefixes,
      isTruncated: truncated,
      nextKeyMarker,
      nextUploadIdMarker,
    },
    OWNER,
  );
  reply(res, req, '200 OK', [XML], body);
}

/**
 * GET/HEAD ?partNumber=N. For a multipart object: part N's bytes (206, Content-Range) with
 * x-amz-mp-parts-count. Any other object is one part: the ordinary GET handles it (partNumber=1 is the
 * whole object, others InvalidPartNumber).
 */
export function getObjectPartS3(target: Target, res: HttpResponse, req: Req, op: GetObjectOp | HeadObjectOp, props: BucketProps): void {
  let h;
  try {
    validateObjectKey(op.key);
    h = target.openObject(op.bucket, op.key);
    if (!h) throw noSuchKey(op.bucket, op.key);
    const lom = h.lom as MpuLom;
    const count = partsCount(lom);
    if (count === undefined) {
      fs.close(h.fd, () => {});
      h = undefined;
      return getObjectS3(target, res, req, op, props);
    }
    const verdict = evaluateLom(conditionHeaders((n) => header(req, n)), lom);
    if (!verdict.ok) {
      if (verdict.status === 412) throw preconditionFailed(verdict.condition);
      fs.close(h.fd, () => {});
      h = undefined;
      if (req.aborted) return;
      res.cork(() => {
        res.writeStatus('304 Not Modified');
        res.writeHeader('Last-Modified', httpDate(lom.mtime));
        res.writeHeader('ETag', `"${lom.etag}"`);
        res.writeHeader('x-amz-request-id', req.id);
        res.endWithoutBody();
      });
      return;
    }
    if (header(req, 'range') !== '') throw s3err('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
    const part = partRange(lom, op.partNumber!);
    if (!part) throw s3err('InvalidPartNumber', undefined, { PartNumberRequested: String(op.partNumber), ActualPartCount: String(count) });
    const headers = objectHeaders(lom, op.kind === 'GetObject' ? op.responseOverrides.contentType : undefined);
    const end = part.start + part.length - 1;
    headers.push(['x-amz-mp-parts-count', String(part.count)]);
    if (part.length > 0) headers.push(['Content-Range', `bytes ${part.start}-${end}/${lom.size}`]);
    const status = '206 Partial Content';
    if (op.kind === 'HeadObject') {
      target.stats.headCount++;
      fs.close(h.fd, () => {});
      h = undefined;
      if (req.aborted) return;
      res.cork(() => {
        res.writeStatus(status);
        for (const [k, v] of headers) res.writeHeader(k, v);
        res.writeHeader('x-amz-request-id', req.id);
        endHead(res, part.length);
      });
      return;
    }
    headers.push(['x-amz-request-id', req.id]);
    const handle = h;
    h = undefined;
    streamObject(target, res, req, handle, { status, headers, start: part.start, length: part.length, verify: false }, (err) => {
      target.stats.errGetCount++;
      sendS3Error(res, req, err instanceof S3Error ? err : new S3Error('InternalError', err.message));
    });
  } catch (err) {
    if (h) fs.close(h.fd, () => {});
    sendS3Error(res, req, err);
  }
}

function partError(err: PutError): S3Error {
  switch (err.code) {
    case 'BadDigest':
    case 'IncompleteBody':
    case 'InvalidRequest':
    case 'InvalidArgument':
    case 'SignatureDoesNotMatch': // SigV4: a chunk or trailer signature, or the signed body hash (s3/sigv4-stream.ts)
    case 'XAmzContentSHA256Mismatch':
      return s3err(err.code, err.message);
    case 'ENOSPC':
      return s3err('ServiceUnavailable', 'no space left on the mountpath');
    default:
      return new S3Error('InternalError', `UploadPart failed: ${err.code}`);
  }
}


