// S3 object operations on a remote (s3://) bucket, on the object's owner target. Reads: a cached copy
// is served like any object (warm GET; with `versioning.validate_warm_get` only after the remote
// confirms its ETag/version), an uncached one is fetched first (cold-get.ts) — whole, then served, so a
// Range GET of a cold object fetches the whole object and serves the range from the stored copy. HEAD
// of an uncached object answers from the remote's HeadObject without fetching. Writes go through to
// the remote: PUT stores the body locally (checksummed, in a staging file), uploads that file with
// PutObject, and publishes the cached copy only when the remote has it; DELETE deletes both.
import fs from 'node:fs';
import path from 'node:path';
import type { HttpResponse } from '../util/uws';
import { header, reply, endHead, statusLine, type Req } from '../api/http';
import { hasS3Signature, presignedUrl, putNotReissuable, rangeIsSigned, reissue, remoteObjectOf, type Reissued } from '../backend/presigned';
import type { Readable } from 'node:stream';
import { featureOn, type BucketProps } from '../cluster/config';
import { encodeLom, loadLomPath, LOM_XATTR, etagOf, type Lom } from '../fs/lom';
import { objectPath } from '../fs/fqn';
import { fsetxattr } from '../native';
import type { GetObjectOp, HeadObjectOp, PutObjectOp, DeleteObjectOp } from '../s3/ops';
import { s3err, noSuchKey, S3Error } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { httpDate } from '../s3/time';
import { validateObjectKey } from '../s3/names';
import { headObject, putObject, putObjectMultipart, deleteObject, BackendError, type RemoteObject, type RemotePart } from '../backend/s3';
import { partRange, partsCount, type MpuLom } from './mpu-parts';
import { bodyShape, feedBody, userMeta } from './body';
import { parseContentMd5 } from '../s3/checksums';
import { PutStream, PutError } from './put';
import { coldFetch, fetchInFlight, RemoteNotFound, type ColdTap } from './cold-get';
import { getObjectS3, putErrorToS3 } from './tgts3';
import type { Target } from './target';

const CONDITIONAL = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

/** A backend failure as the S3 client sees it: the remote's own 403/404, else 503 (retry later). */
export function remoteErrorToS3(err: unknown, bucket: string, key: string): unknown {
  if (err instanceof RemoteNotFound) return noSuchKey(bucket, key);
  if (err instanceof BackendError) {
    if (err.status === 404) return noSuchKey(bucket, key);
    if (err.status === 403) return s3err('AccessDenied', `remote bucket s3://${bucket}: ${err.message}`);
    return s3err('ServiceUnavailable', `remote bucket s3://${bucket} failed: ${err.message}`);
  }
  if (err instanceof PutError) {
    if (err.code === 'RemoteReadFailed' || err.code === 'IncompleteBody') return s3err('ServiceUnavailable', `cold GET of s3://${bucket}/${key}: ${err.message}; nothing stored`);
    return new S3Error('InternalError', `cold GET of s3://${bucket}/${key} failed: ${err.code}`);
  }
  return err;
}

/** True when the cached copy is still the remote's object (or the bucket does not ask to check). */
async function isCurrent(target: Target, op: { bucket: string; key: string }, props: BucketProps): Promise<boolean> {
  if (!props.versioning?.validate_warm_get) return true;
  const h = target.openObject(op.bucket, op.key);
  if (!h) return false;
  fs.close(h.fd, () => {});
  const ro = await headObject(op.bucket, op.key, props);
  if (!ro) {
    // Gone from the remote: the cached copy goes too (AIStore does the same with validate_warm_get).
    await target.deleteObject(op.bucket, op.key);
    return false;
  }
  return ro.etag === h.lom.remote?.etag && (ro.version ?? '') === (h.lom.remote?.version ?? '');
}

/**
 * Makes sure this target holds a current copy of a remote bucket's object (a copy's source): fetched
 * from the remote when missing (or stale under `versioning.validate_warm_get`), as a cold GET would.
 * Rejects with the S3 error to answer (NoSuchKey naming the source when the remote has no such object).
 */
export async function cacheRemote(target: Target, bucket: string, key: string, props: BucketProps): Promise<void> {
  try {
    if (target.hasObject(bucket, key) && (await isCurrent(target, { bucket, key }, props))) return;
    await coldFetch(target, bucket, key, props).lom;
  } catch (err) {
    throw remoteErrorToS3(err, bucket, key);
  }
}

export async function getRemoteS3(target: Target, res: HttpResponse, req: Req, op: GetObjectOp | HeadObjectOp, props: BucketProps): Promise<void> {
  try {
    validateObjectKey(op.key);
    if (featureOn(target.config, props, 'S3-Presigned-Request') && hasS3Signature(req)) return await presignedGetS3(target, res, req, op, props);
    if (target.hasObject(op.bucket, op.key) && (await isCurrent(target, op, props))) return getObjectS3(target, res, req, op, props);
    if (op.kind === 'HeadObject') return await headUncached(target, res, req, op, props);
    const plain = header(req, 'range') === '' && op.partNumber === undefined && CONDITIONAL.every((c) => header(req, c) === '');
    if (plain && featureOn(target.config, props, 'Streaming-Cold-GET')) {
      const tap = new ResponseTap(res, req, op);
      const f = coldFetch(target, op.bucket, op.key, props, tap);
      if (!f.joined) {
        try {
          await f.lom;
        } catch (err) {
          if (!tap.started) throw err; // else the tap has cut the connection already
        }
        return;
      }
      await f.lom;
    } else {
      await coldFetch(target, op.bucket, op.key, props).lom;
    }
    if (req.aborted) return;
    getObjectS3(target, res, req, op, props);
  } catch (err) {
    target.stats.errGetCount++;
    if (err instanceof RemoteAnswer) return reply(res, req, statusLine(err.status), [['Content-Type', err.contentType]], err.body);
    sendS3Error(res, req, remoteErrorToS3(err, op.bucket, op.key));
  }
}

/** The remote refused a re-issued presigned request: its answer goes to the client as it is. */
class RemoteAnswer extends Error {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: Buffer,
  ) {
    super(`remote answered ${status}`);
  }
}

/** The remote URL a client's signature was made for: the key as the client sent it (still encoded). */
function signedRemoteUrl(req: Req, props: BucketProps, op: { bucket: string; key: string }): URL {
  const marker = `/${op.bucket}/`;
  const at = req.url.indexOf(marker);
  return presignedUrl(req, props, op.bucket, at < 0 ? encodeURIComponent(op.key) : req.url.slice(at + marker.length));
}

async function refusal(r: Reissued): Promise<RemoteAnswer> {
  const chunks: Buffer[] = [];
  for await (const c of r.body) chunks.push(c as Buffer);
  return new RemoteAnswer(r.status, String(r.headers['content-type'] ?? 'application/xml'), Buffer.concat(chunks));
}

/**
 * S3-Presigned-Request: the remote authorizes every read. A cached copy is served after a 1-byte probe
 * of the same signed request says the remote still has that ETag; otherwise the signed request is
 * re-issued whole and its object stored (the cold GET path) and served. HEAD of an uncached object
 * answers from the re-issued HEAD.
 */
async function presignedGetS3(target: Target, res: HttpResponse, req: Req, op: GetObjectOp | HeadObjectOp, props: BucketProps): Promise<void> {
  if (rangeIsSigned(req)) throw s3err('NotImplemented', 'a presigned request with a signed Range header cannot be offloaded (the object is fetched whole)');
  const url = signedRemoteUrl(req, props, op);
  const h = target.openObject(op.bucket, op.key);
  if (!h && op.kind === 'GetObject' && fetchInFlight(target, op.bucket, op.key)) {
    // Joining another client's fetch must not skip this client's authorization: the remote checks it first.
    const probe = await reissue(req, url, 'GET', true);
    if (probe.status !== 200 && probe.status !== 206) throw await refusal(probe);
    probe.body.resume();
  }
  if (h) {
    fs.close(h.fd, () => {});
    const probe = await reissue(req, url, op.kind === 'HeadObject' ? 'HEAD' : 'GET', true);
    if (probe.status !== 200 && probe.status !== 206) throw await refusal(probe);
    probe.body.resume();
    if (remoteObjectOf(probe.headers).etag === h.lom.remote?.etag) return getObjectS3(target, res, req, op, props);
  }
  if (op.kind === 'HeadObject') {
    const r = await reissue(req, url, 'HEAD', false);
    r.body.resume();
    if (r.status !== 200) throw new RemoteAnswer(r.status, 'application/xml', Buffer.alloc(0));
    const ro = remoteObjectOf(r.headers);
    if (req.aborted) return;
    res.cork(() => {
      res.writeStatus('200 OK');
      for (const [k, v] of remoteHeaders(ro)) res.writeHeader(k, v);
      res.writeHeader('x-amz-request-id', req.id);
      endHead(res, ro.size);
    });
    return;
  }
  await coldFetch(target, op.bucket, op.key, props, undefined, async () => {
    const r = await reissue(req, url, 'GET', false);
    if (r.status !== 200) throw await refusal(r);
    return { obj: remoteObjectOf(r.headers), body: r.body };
  }).lom;
  if (!req.aborted) getObjectS3(target, res, req, op, props);
}

async function headUncached(target: Target, res: HttpResponse, req: Req, op: HeadObjectOp, props: BucketProps): Promise<void> {
  const ro = await headObject(op.bucket, op.key, props);
  if (!ro) throw noSuchKey(op.bucket, op.key);
  target.stats.headCount++;
  if (req.aborted) return;
  res.cork(() => {
    res.writeStatus('200 OK');
    for (const [k, v] of remoteHeaders(ro)) res.writeHeader(k, v);
    res.writeHeader('x-amz-request-id', req.id);
    endHead(res, ro.size);
  });
}

function remoteHeaders(ro: RemoteObject): [string, string][] {
  const h: [string, string][] = [
    ['Accept-Ranges', 'bytes'],
    ['Last-Modified', httpDate(ro.mtime)],
    ['Content-Type', ro.contentType ?? 'application/octet-stream'],
  ];
  if (ro.etag) h.push(['ETag', `"${ro.etag}"`]);
  if (ro.meta) for (const [k, v] of Object.entries(ro.meta)) h.push([`x-amz-meta-${k}`, v]);
  return h;
}

/**
 * Streaming-Cold-GET: status and headers go out when the remote answers, each piece of the body as it
 * arrives (tryEnd with the total size, so uWS frames the response by Content-Length); a cut remote read
 * closes the connection, so the client sees fewer bytes than announced, never a complete 200.
 */
class ResponseTap implements ColdTap {
  started = false;
  private total = 0;
  private gone: (() => void) | undefined;

  constructor(
    private readonly res: HttpResponse,
    private readonly req: Req,
    private readonly op: GetObjectOp | HeadObjectOp,
  ) {
    req.onAbort = () => this.gone?.();
  }

  head(ro: RemoteObject): void {
    if (this.req.aborted) return;
    this.started = true;
    this.total = ro.size;
    const headers = remoteHeaders(ro);
    const ct = this.op.kind === 'GetObject' ? this.op.responseOverrides.contentType : undefined;
    if (ct) headers[2] = ['Content-Type', ct];
    this.res.cork(() => {
      this.res.writeStatus('200 OK');
      for (const [k, v] of headers) this.res.writeHeader(k, v);
      this.res.writeHeader('x-amz-request-id', this.req.id);
      if (ro.size === 0) this.res.end();
    });
  }

  data(chunk: Buffer, resume: () => void): boolean {
    if (this.req.aborted || !this.started) return true;
    let base = 0;
    let ok = false;
    this.res.cork(() => {
      base = this.res.getWriteOffset();
      [ok] = this.res.tryEnd(chunk, this.total);
    });
    if (ok) return true;
    let out = false;
    this.res.onWritable((offset) => {
      if (this.req.aborted || out) return true;
      [out] = this.res.tryEnd(chunk.subarray(offset - base), this.total);
      if (out) setImmediate(resume);
      return out;
    });
    return false;
  }

  cut(): void {
    if (this.started && !this.req.aborted) this.res.close();
  }

  onGone(release: () => void): void {
    this.gone = release;
  }
}

/**
 * PUT on a remote bucket: the body is stored and checksummed as any PUT, but into a staging file; it
 * is uploaded to the remote from there, and only when the remote has it is the staging file (its LOM
 * now carrying the remote's ETag) renamed over the cached copy. A failed remote PUT changes nothing here.
 */
/** `fail` answers an error: S3 XML by default; the native API passes its JSON answer. */
export function putRemoteS3(
  target: Target,
  res: HttpResponse,
  req: Req,
  op: PutObjectOp,
  props: BucketProps,
  fail: (res: HttpResponse, req: Req, err: unknown) => void = sendS3Error,
): void {
  try {
    validateObjectKey(op.key);
    if (['if-match', 'if-none-match'].some((c) => header(req, c) !== '')) throw s3err('NotImplemented', 'conditional PUT is not supported on remote (s3://) buckets');
    // S3-Presigned-Request: the client's signed PUT goes to the remote as it is, with the stored body.
    const signed = featureOn(target.config, props, 'S3-Presigned-Request') && hasS3Signature(req);
    if (signed) {
      const why = putNotReissuable(req);
      if (why) throw s3err('NotImplemented', why);
    }
    const upload: RemoteUpload | undefined = signed ? signedUpload(req, signedRemoteUrl(req, props, op)) : undefined;
    const { chunked, size } = bodyShape(req);
    const meta = userMeta(req);
    const contentMd5 = parseContentMd5(header(req, 'content-md5'));
    const contentType = header(req, 'content-type') || undefined;
    const mp = target.mountpathFor(op.bucket, op.key);
    const staging = target.workFile(mp, op.bucket, 'wt');
    const params = { bucket: op.bucket, objName: op.key, props, size, contentType, meta, contentMd5, dst: staging };
    const stream = new PutStream(target, res, req, params, (err, lom) => {
      if (err) {
        target.stats.errPutCount++;
        if (!req.aborted) fail(res, req, putErrorToS3(err, op));
        return;
      }
      writeThrough(target, op, props, staging, lom!.size, { contentType, meta }, upload).then(
        (stored) => {
          target.stats.putCount++;
          target.stats.putBytes += stored.size;
          const etag = etagOf(stored);
          reply(res, req, '200 OK', etag ? [['ETag', `"${etag}"`]] : []);
        },
        (e: unknown) => {
          target.stats.errPutCount++;
          // The staging file goes before the answer: a client that saw the error finds nothing stored.
          fs.rm(staging, { force: true }, () => {
            if (e instanceof RemoteAnswer) return reply(res, req, statusLine(e.status), [['Content-Type', e.contentType]], e.body);
            fail(res, req, remoteErrorToS3(e, op.bucket, op.key));
          });
        },
      );
    });
    feedBody(res, req, stream, chunked, undefined);
  } catch (err) {
    fail(res, req, err);
  }
}

/**
 * Where a copy into a remote bucket writes: a staging file, which `finish` uploads to the remote and
 * then renames over the cached copy (as a PUT's body); a failed upload removes it and changes nothing.
 */
export function stagedRemote(target: Target, bucket: string, key: string, props: BucketProps): { file: string; finish: (lom: Lom) => Promise<Lom> } {
  const file = target.workFile(target.mountpathFor(bucket, key), bucket, 'wt');
  return {
    file,
    finish: (lom) =>
      writeThrough(target, { bucket, key }, props, file, lom.size, { contentType: lom.contentType, ...(lom.meta ? { meta: lom.meta } : {}) }).catch(async (err: unknown) => {
        await fs.promises.rm(file, { force: true });
        throw remoteErrorToS3(err, bucket, key);
      }),
  };
}

/** How a staged object goes to the remote: the SDK's PutObject by default, or a client's signed PUT. */
type RemoteUpload = (body: Readable, size: number) => Promise<{ etag: string; version?: string | undefined }>;

/** The client's signed PUT, re-issued with the stored body; a refusal is the remote's answer, as it is. */
function signedUpload(req: Req, url: URL): RemoteUpload {
  return async (body, size) => {
    const r = await reissue(req, url, 'PUT', false, { stream: body, size });
    if (r.status !== 200) throw await refusal(r);
    r.body.resume();
    const ro = remoteObjectOf(r.headers);
    return { etag: ro.etag, ...(ro.version ? { version: ro.version } : {}) };
  };
}

async function writeThrough(
  target: Target,
  op: { bucket: string; key: string },
  props: BucketProps,
  staging: string,
  size: number,
  opts: { contentType?: string | undefined; meta?: Record<string, string> },
  upload?: RemoteUpload,
): Promise<Lom> {
  const lom = loadLomPath(staging)!;
  if (objectPath(op.key).long) lom.name = op.key; // kept under its hashed name: the LOM names it
  const body = fs.createReadStream(staging);
  const r = upload
    ? await upload(body, size)
    : await putObject(op.bucket, op.key, props, body, size, {
        ...(opts.contentType ? { contentType: opts.contentType } : {}),
        ...(opts.meta && Object.keys(opts.meta).length ? { meta: opts.meta } : {}),
      });
  lom.remote = { etag: r.etag, ...(r.version ? { version: r.version } : {}) };
  if (r.etag) lom.etag = r.etag;
  const fd = fs.openSync(staging, 'r');
  try {
    fsetxattr(fd, LOM_XATTR, encodeLom(lom));
  } finally {
    fs.closeSync(fd);
  }
  const dst = target.objectFile(target.mountpathFor(op.bucket, op.key), op.bucket, op.key);
  await fs.promises.mkdir(path.dirname(dst), { recursive: true });
  await fs.promises.rename(staging, dst);
  return lom;
}

/**
 * Multipart upload on a remote bucket: the parts are uploaded and assembled in the cluster as for any
 * bucket; once the object is published here it goes to the remote through the remote's own multipart
 * upload, part for part as the client cut it (same boundaries, so the remote's ETag is the same
 * `md5-of-md5s-N` the client computed, and objects over 5 GiB work). Where the LOM has no part layout
 * (very irregular part sizes do not fit it) the object goes in 64 MiB parts, or with one PutObject when
 * it is small. The LOM then takes the remote's ETag. A failed upload removes the local object (the
 * remote keeps its previous version; the next GET fetches that) and fails the completion; the upload
 * stays, to be completed again (it runs as MpuStore.complete's `settle`). Between
 * publish and upload a GET may already see the new object here.
 */
export function writeThroughAssembled(target: Target, bucket: string, key: string, props: BucketProps): (lom: Lom) => Promise<Lom> {
  return async (lom) => {
    const h = target.openObject(bucket, key);
    if (!h) throw new S3Error('InternalError', 'the assembled object disappeared before it was written to the remote');
    const opts = { ...(lom.contentType ? { contentType: lom.contentType } : {}), ...(lom.meta ? { meta: lom.meta } : {}) };
    try {
      const parts = remoteParts(h.lom);
      const r =
        parts.length > 1
          ? await putObjectMultipart(bucket, key, props, parts, (p) => fs.createReadStream('', { fd: h.fd, autoClose: false, start: p.start, end: p.start + p.length - 1 }), opts)
          : await putObject(bucket, key, props, fs.createReadStream('', { fd: h.fd, autoClose: false, start: 0 }), lom.size, opts);
      const next: Lom = { ...h.lom, remote: { etag: r.etag, ...(r.version ? { version: r.version } : {}) }, ...(r.etag ? { etag: r.etag } : {}) };
      fsetxattr(h.fd, LOM_XATTR, encodeLom(next));
      return next;
    } catch (err) {
      await target.deleteObject(bucket, key);
      throw remoteErrorToS3(err, bucket, key);
    } finally {
      fs.close(h.fd, () => {});
    }
  };
}

const FALLBACK_PART = 64 << 20;

/** The client's part boundaries from the LOM, or 64 MiB parts; one range means "one PutObject". */
function remoteParts(lom: Lom): RemotePart[] {
  const n = partsCount(lom);
  const out: RemotePart[] = [];
  if (n !== undefined && n > 1) {
    for (let i = 1; i <= n; i++) {
      const r = partRange(lom as MpuLom, i);
      if (!r) break;
      out.push({ start: r.start, length: r.length });
    }
    // The last part is whatever remains after the runs (its size is not a run of its own when odd).
    const covered = out.reduce((a, p) => a + p.length, 0);
    if (out.length === n && covered === lom.size) return out;
    out.length = 0;
  }
  if (lom.size <= FALLBACK_PART) return [{ start: 0, length: lom.size }];
  for (let start = 0; start < lom.size; start += FALLBACK_PART) out.push({ start, length: Math.min(FALLBACK_PART, lom.size - start) });
  return out;
}

export async function deleteRemoteS3(target: Target, res: HttpResponse, req: Req, op: DeleteObjectOp, props: BucketProps): Promise<void> {
  try {
    validateObjectKey(op.key);
    await deleteObject(op.bucket, op.key, props);
    if (await target.deleteObject(op.bucket, op.key)) target.stats.delCount++;
    reply(res, req, '204 No Content', []);
  } catch (err) {
    sendS3Error(res, req, remoteErrorToS3(err, op.bucket, op.key));
  }
}
