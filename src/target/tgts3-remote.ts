// S3 object operations on a remote (s3://) bucket, on the object's owner target. Reads: a cached copy
// is served like any object (warm GET; with `versioning.validate_warm_get` only after the remote
// confirms its ETag/version), an uncached one is fetched first (cold-get.ts) — whole, then served, so a
// Range GET of a cold object fetches the whole object and serves the range from the stored copy. HEAD
// of an uncached object answers from the remote's HeadObject without fetching. DELETE deletes both
// copies. Writes: tgts3-remote-put.ts.
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { header, reply, endHead, statusLine, type Req } from '../api/http';
import { hasS3Signature, presignedUrl, rangeIsSigned, reissue, remoteObjectOf, type Reissued } from '../backend/presigned';
import { featureOn, type BucketProps } from '../cluster/config';
import type { GetObjectOp, HeadObjectOp, DeleteObjectOp } from '../s3/ops';
import { s3err, noSuchKey, S3Error } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { httpDate } from '../s3/time';
import { validateObjectKey } from '../s3/names';
import { headObject, deleteObject, BackendError, type RemoteObject } from '../backend/s3';
import { PutError } from './put';
import { coldFetch, fetchInFlight, RemoteNotFound, type ColdTap } from './cold-get';
import { getObjectS3 } from './tgts3';
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
export class RemoteAnswer extends Error {
  constructor(
    readonly status: number,
    readonly contentType: string,
    readonly body: Buffer,
  ) {
    super(`remote answered ${status}`);
  }
}

/** The remote URL a client's signature was made for: the key as the client sent it (still encoded). */
export function signedRemoteUrl(req: Req, props: BucketProps, op: { bucket: string; key: string }): URL {
  const marker = `/${op.bucket}/`;
  const at = req.url.indexOf(marker);
  return presignedUrl(req, props, op.bucket, at < 0 ? encodeURIComponent(op.key) : req.url.slice(at + marker.length));
}

export async function refusal(r: Reissued): Promise<RemoteAnswer> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of r.body) chunks.push(c as Buffer);
  } catch {
    // A remote that refuses a PUT before reading its body may close the connection as it answers:
    // its status stands, with as much of its message as arrived.
  }
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
