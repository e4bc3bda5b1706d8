// Writes to a remote (s3://) bucket, on the object's owner target: everything is stored in the cluster
// first (checksummed, in a staging work file) and goes to the remote from there — PutObject, the
// client's own signed PUT re-issued (S3-Presigned-Request), or the remote's multipart upload for an
// assembled one — and the cached copy is published only once the remote has the object, with the
// remote's ETag. A failed remote write leaves neither side changed. Reads and deletes: tgts3-remote.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { HttpResponse } from '../util/uws';
import { header, reply, statusLine, type Req } from '../api/http';
import { hasS3Signature, putNotReissuable, reissue, remoteObjectOf } from '../backend/presigned';
import { featureOn, type BucketProps } from '../cluster/config';
import { encodeLom, loadLomPath, LOM_XATTR, etagOf, type Lom } from '../fs/lom';
import { objectPath } from '../fs/fqn';
import { fsetxattr } from '../native';
import type { PutObjectOp } from '../s3/ops';
import { s3err, S3Error } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { validateObjectKey } from '../s3/names';
import { putObject, putObjectMultipart, type RemotePart } from '../backend/s3';
import { partRange, partsCount, type MpuLom } from './mpu-parts';
import { bodyShape, feedBody, userMeta } from './body';
import { parseContentMd5 } from '../s3/checksums';
import { PutStream } from './put';
import { putErrorToS3 } from './tgts3';
import { RemoteAnswer, refusal, remoteErrorToS3, signedRemoteUrl } from './tgts3-remote';
import type { Target } from './target';

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

