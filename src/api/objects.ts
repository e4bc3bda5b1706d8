// Native /v1/objects/BUCKET/OBJECT: PUT, GET (Range), HEAD, DELETE, each served by the object's HRW owner
// target (proxy/route.ts toOwner, as the S3 gateway does). Object properties travel in AIStore's headers:
// Ais-Checksum-Type / -Value (also on PUT, for end-to-end validation), Ais-Atime (ns), Ais-Custom-Md.
// Unlike S3, deleting a missing object is 404, as in AIStore.
import { authorize } from '../authn/authn';
import { Ace } from '../authn/access';
import type { HttpResponse } from '../util/uws';
import { header, reply, endHead, readBody, type Req } from './http';
import fs from 'node:fs';
import type { Node } from '../cluster/node';
import type { BucketProps } from '../cluster/config';
import { toOwner, toPrimary, isForwarded } from '../proxy/route';
import { startPromoteJob } from './xactions';
import { frontendWait } from '../proxy/ratelimit';
import { deleteOnNeighbours, getOrAskNeighbours } from '../target/gfn';
import { validateObjectKey } from '../s3/names';
import { parseRange, contentRange, contentRangeUnsatisfied } from '../s3/range';
import { httpDate } from '../s3/time';
import { etagOf, type Lom } from '../fs/lom';
import { bodyShape, feedBody } from '../target/body';
import { PutStream } from '../target/put';
import { streamObject, ChecksumMismatch } from '../target/get';
import { ApiError, badRequest, bucketOf, bucketUri, guarded, notFound, notServed, providerOf, putErrorToApi, readAction, sendApiError, type Provider } from './native';
import { renameObject } from '../target/rename';
import { parseCustomMd, setCustomMd } from '../target/custom-md';
import { headObject, deleteObject as deleteRemote, BackendError } from '../backend/s3';
import { coldFetch, RemoteNotFound } from '../target/cold-get';
import { putRemoteS3 } from '../target/tgts3-remote-put';
import { getTransformed } from './etl-inline';
import { getArchived } from '../target/archpath';
import { getArchivedMany, parseMatchMode } from '../target/archregx';

const PREFIX = '/v1/objects/';

export function handleObjectsV1(node: Node, res: HttpResponse, req: Req): void {
  guarded(res, req, () => {
    const provider = providerOf(new URLSearchParams(req.query));
    const rest = req.url.slice(PREFIX.length);
    const slash = rest.indexOf('/');
    const bucket = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
    const obj = slash < 0 ? '' : decodeURIComponent(rest.slice(slash + 1));
    if (bucket === '') throw badRequest('expected /v1/objects/BUCKET/OBJECT');
    // The token first: without one, whether the bucket exists is not the client's to learn.
    const promote = req.method === 'POST' && obj === '';
    authorize(node, req, promote ? Ace.PROMOTE : (OBJECT_NEEDS[req.method] ?? Ace.OBJ_UPDATE), { name: bucket, provider: node.bmd.get(bucket)?.provider ?? provider });
    const props = bucketOf((n) => node.bmd.get(n), bucket, provider);
    // POST /v1/objects/BUCKET: promote files into the bucket (a job, started from the primary).
    if (promote) return toPrimary(node, res, req, () => readAction(res).then((msg) => startPromoteJob(node, res, req, bucket, props, msg)));
    if (obj === '') throw badRequest(`missing object name: expected /v1/objects/${bucket}/OBJECT`);
    validateObjectKey(obj);
    if (!isForwarded(node, req)) {
      const wait = frontendWait(node, bucket, req.method);
      if (wait > 0) throw new ApiError(429, `too many requests: bucket ${bucketUri(bucket, props.provider)} is over its rate_limit.frontend (retry in ${wait} ms)`);
    }
    const local = (fn: (p: BucketProps) => Promise<void> | void) => () => Promise.resolve(fn(node.bmd.get(bucket) ?? props));
    switch (req.method) {
      case 'PUT':
        // A remote bucket: written through to the remote by the owner, as an S3 PUT is (errors as JSON).
        if (props.provider === 'aws') {
          return toOwner(node, res, req, bucket, obj, local((p) => putRemoteS3(node.target, res, req, { kind: 'PutObject', bucket, key: obj }, p, sendApiError)));
        }
        return toOwner(node, res, req, bucket, obj, local((p) => putObject(node, res, req, bucket, obj, p)));
      case 'GET':
      case 'HEAD': {
        const q = req.method === 'GET' ? new URLSearchParams(req.query) : undefined;
        const etlName = q?.get('etl_name');
        const archpath = q?.get('archpath');
        const archregx = q?.get('archregx') ?? null;
        const archmode = q?.get('archmode') ?? null;
        if (archregx !== null || archmode !== null) {
          if (archpath) throw new ApiError(400, 'archpath (one file) and archregx/archmode (many) are mutually exclusive');
          const mode = parseMatchMode(archmode);
          return toOwner(node, res, req, bucket, obj, () => shardHere(node, bucket, obj, props).then(() => getArchivedMany(node.target, res, req, bucket, obj, archregx ?? '', mode)));
        }
        if (archpath) return toOwner(node, res, req, bucket, obj, () => shardHere(node, bucket, obj, props).then(() => getArchived(node.target, res, req, bucket, obj, archpath)));
        if (q && etlName) {
          const names = [etlName, ...(q.get('etl_pipeline') ?? '').split(',').filter((n) => n !== '')];
          return toOwner(node, res, req, bucket, obj, local((p) => getTransformed(node, res, req, bucket, obj, p, names, q.get('etl_args') ?? undefined)));
        }
        // A remote bucket's owner fetches what it lacks from the remote; an ais:// one asks the other
        // targets while a rebalance runs (get-from-neighbour).
        if (props.provider === 'aws') return toOwner(node, res, req, bucket, obj, local((p) => getRemote(node, res, req, bucket, obj, p)));
        return toOwner(node, res, req, bucket, obj, () =>
          getOrAskNeighbours({ node, res, req, bucket, objName: obj, local: local((p) => getObject(node, res, req, bucket, obj, p)), fail: (err) => sendApiError(res, req, err) }),
        );
      }
      case 'DELETE':
        return toOwner(node, res, req, bucket, obj, local((p) => deleteObject(node, res, req, bucket, obj, p)));
      case 'POST':
        // The action message is read where the object's owner serves it (the gateway forwards the body).
        return toOwner(node, res, req, bucket, obj, () => objectAction(node, res, req, bucket, obj, props));
      case 'PATCH':
        return toOwner(node, res, req, bucket, obj, () => patchObject(node, res, req, bucket, obj));
      default:
        throw new ApiError(405, `${req.method} /v1/objects/BUCKET/OBJECT is not supported`);
    }
  });
}

const OBJECT_NEEDS: Readonly<Record<string, bigint>> = { GET: Ace.GET, HEAD: Ace.OBJ_HEAD, PUT: Ace.PUT, DELETE: Ace.OBJ_DELETE, POST: Ace.OBJ_MOVE, PATCH: Ace.OBJ_UPDATE };

/** PATCH /v1/objects/BUCKET/OBJECT: AIStore's set-custom (target/custom-md.ts). */
async function patchObject(node: Node, res: HttpResponse, req: Req, bucket: string, obj: string): Promise<void> {
  // AIStore's client sends {"action":"","value":{...}}: the value is what counts here.
  const text = (await readBody(res, 1 << 20)).toString('utf8');
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown } | null)?.value;
  } catch {
    throw badRequest('set-custom: the body is not JSON (expected {"value":{"key":"value",...}})');
  }
  setCustomMd(node.target, bucket, obj, parseCustomMd(value), new URLSearchParams(req.query).get('set-new-custom') === 'true');
  reply(res, req, '200 OK', []);
}

/** POST /v1/objects/BUCKET/OBJECT: AIStore's object actions; `rename-obj` is the one served. */
async function objectAction(node: Node, res: HttpResponse, req: Req, bucket: string, obj: string, props: BucketProps): Promise<void> {
  const msg = await readAction(res);
  if (!msg) throw badRequest('expected an action message {"action":"rename-obj","name":"NEW_NAME"}');
  if (msg.action !== 'rename-obj') throw notServed(`object action "${msg.action}" (promote, blob-download, append, ...) is not supported yet; rename-obj is`);
  if (props.provider !== 'ais') throw badRequest(`invalid action "rename-obj": not supported for remote buckets (${objUri(bucket, obj, props.provider)})`);
  const to = typeof msg.name === 'string' ? msg.name : '';
  if (to === '') throw badRequest('rename-obj: the new object name ("name") is missing');
  validateObjectKey(to);
  if (to === obj) throw badRequest(`cannot rename ${objUri(bucket, obj)} to self, nothing to do`);
  await renameObject(node, bucket, obj, to);
  node.target.stats.renameCount++;
  reply(res, req, '200 OK', []);
}

function objUri(bucket: string, obj: string, provider: Provider = 'ais'): string {
  return `${bucketUri(bucket, provider)}/${obj}`;
}

/** Ais-Custom-Md: "k=v" pairs (the header may repeat; repeats arrive joined with ','). */
function customMd(req: Req): Record<string, string> | undefined {
  const raw = header(req, 'ais-custom-md');
  if (raw === '') return undefined;
  const out: Record<string, string> = {};
  for (const kv of raw.split(',')) {
    const i = kv.indexOf('=');
    if (i <= 0) throw badRequest(`invalid Ais-Custom-Md "${kv}" (expected key=value)`);
    out[kv.slice(0, i).trim().toLowerCase()] = kv.slice(i + 1).trim();
  }
  return out;
}

function putObject(node: Node, res: HttpResponse, req: Req, bucket: string, obj: string, props: BucketProps): void {
  const target = node.target;
  const { chunked, size } = bodyShape(req);
  const type = header(req, 'ais-checksum-type').toLowerCase();
  const value = header(req, 'ais-checksum-value').toLowerCase();
  let contentMd5: string | undefined;
  let expectCksum: string | undefined;
  if (type !== '' && type !== 'none') {
    if (value === '') throw badRequest(`Ais-Checksum-Type ${type} without Ais-Checksum-Value`);
    if (type === props.checksum.type) expectCksum = value;
    else if (type === 'md5') {
      if (!/^[0-9a-f]{32}$/.test(value)) throw badRequest(`invalid md5 checksum "${value}"`);
      contentMd5 = value;
    } else {
      throw badRequest(`Ais-Checksum-Type ${type}: bucket ${bucketUri(bucket)} checksums with ${props.checksum.type}; send that type (or md5)`);
    }
  }
  const meta = customMd(req);
  const contentType = header(req, 'content-type') || undefined;
  const stream = new PutStream(target, res, req, { bucket, objName: obj, props, size, contentType, meta, contentMd5, expectCksum }, (err, lom) => {
    if (err) {
      target.stats.errPutCount++;
      if (!req.aborted) sendApiError(res, req, putErrorToApi(err));
      return;
    }
    target.stats.putCount++;
    target.stats.putBytes += lom!.size;
    reply(res, req, '200 OK', cksumHeaders(lom!));
  });
  feedBody(res, req, stream, chunked, undefined);
}

function cksumHeaders(lom: Lom): [string, string][] {
  return lom.cksumType === 'none' ? [] : [['Ais-Checksum-Type', lom.cksumType], ['Ais-Checksum-Value', lom.cksumValue]];
}

/** The object's properties as AIStore's GET and HEAD carry them. */
export function objectPropHeaders(node: Node, bucket: string, obj: string, lom: Lom): [string, string][] {
  const h: [string, string][] = [
    ['Accept-Ranges', 'bytes'],
    ['Content-Type', lom.contentType ?? 'application/octet-stream'],
    ['Last-Modified', httpDate(lom.mtime)],
    ['Ais-Name', obj],
    ['Ais-Bucket-Name', bucket],
    ['Ais-Bucket-Provider', node.bmd.get(bucket)?.provider ?? 'ais'],
    ['Ais-Atime', (BigInt(Math.round(lom.mtime)) * 1_000_000n).toString()],
    ['Ais-Location', `t[${node.self.id}]`],
    ['Ais-Mirror-Copies', '1'],
    ['Ais-Present', 'true'],
    ...cksumHeaders(lom),
  ];
  const etag = etagOf(lom);
  if (etag) h.push(['ETag', `"${etag}"`]);
  if (lom.meta) for (const [k, v] of Object.entries(lom.meta)) h.push(['Ais-Custom-Md', `${k}=${v}`]);
  return h;
}

function getObject(node: Node, res: HttpResponse, req: Req, bucket: string, obj: string, props: BucketProps): void {
  const target = node.target;
  let h = target.openForRead(bucket, obj);
  if (!h) throw notFound(`object "${objUri(bucket, obj)}"`);
  try {
    const size = h.lom.size;
    const headers = objectPropHeaders(node, bucket, obj, h.lom);
    const rangeHeader = header(req, 'range');
    const range = rangeHeader ? parseRange(rangeHeader, size) : null;
    if (range === 'unsatisfiable') {
      target.closeObject(h);
      h = undefined;
      return reply(res, req, '416 Range Not Satisfiable', [['Content-Type', 'application/json'], ['Content-Range', contentRangeUnsatisfied(size)]],
        JSON.stringify({ message: `range "${rangeHeader}" is not satisfiable for object "${objUri(bucket, obj)}" of ${size} bytes`, status: 416 }));
    }
    let status = '200 OK';
    let start = 0;
    let length = size;
    if (range) {
      status = '206 Partial Content';
      start = range.start;
      length = range.end - range.start + 1;
      headers.push(['Content-Range', contentRange(range.start, range.end, size)]);
    }
    if (req.method === 'HEAD') {
      target.stats.headCount++;
      target.closeObject(h);
      h = undefined;
      if (req.aborted) return;
      res.cork(() => {
        res.writeStatus(status);
        for (const [k, v] of headers) res.writeHeader(k, v);
        endHead(res, length);
      });
      return;
    }
    const handle = h;
    h = undefined;
    streamObject(target, res, req, handle, { status, headers, start, length, verify: props.checksum.validate_warm_get && length === size }, (err) => {
      target.stats.errGetCount++;
      sendApiError(res, req, err instanceof ChecksumMismatch ? new ApiError(500, `BAD DATA CHECKSUM: ${err.message}`) : err);
    });
  } finally {
    if (h) target.closeObject(h);
  }
}

/**
 * GET/HEAD on a remote bucket: an uncached object is fetched whole first (one fetch per object, see
 * target/cold-get.ts), then served as a cached one; HEAD of an uncached object asks the remote only.
 */
async function getRemote(node: Node, res: HttpResponse, req: Req, bucket: string, obj: string, props: BucketProps): Promise<void> {
  const uri = objUri(bucket, obj, 'aws');
  if (!node.target.hasObject(bucket, obj)) {
    try {
      if (req.method === 'HEAD') {
        const ro = await headObject(bucket, obj, props);
        if (!ro) throw notFound(`object "${uri}"`);
        if (req.aborted) return;
        res.cork(() => {
          res.writeStatus('200 OK');
          for (const [k, v] of [['Ais-Present', 'false'], ['Ais-Bucket-Provider', 'aws'], ['ETag', `"${ro.etag}"`], ['Last-Modified', httpDate(ro.mtime)]]) res.writeHeader(k!, v!);
          endHead(res, ro.size);
        });
        return;
      }
      await coldFetch(node.target, bucket, obj, props).lom;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof RemoteNotFound || (err instanceof BackendError && err.status === 404)) throw notFound(`object "${uri}"`);
      throw new ApiError(503, `cold GET of ${uri} failed: ${(err as Error).message}; nothing stored`);
    }
  }
  if (!req.aborted) getObject(node, res, req, bucket, obj, props);
}

async function deleteObject(node: Node, res: HttpResponse, req: Req, bucket: string, obj: string, props: BucketProps): Promise<void> {
  res.onData(() => {});
  if (props.provider === 'aws') {
    // Write-through: the remote first (a failure leaves both copies), then the cached one.
    try {
      await deleteRemote(bucket, obj, props);
    } catch (err) {
      throw new ApiError(503, `deleting ${objUri(bucket, obj, 'aws')} from the remote failed: ${(err as Error).message}`);
    }
    await node.target.deleteObject(bucket, obj);
    node.target.stats.delCount++;
    return reply(res, req, '200 OK', []);
  }
  const elsewhere = await deleteOnNeighbours(node, req, bucket, obj);
  if (!(await node.target.deleteObject(bucket, obj)) && !elsewhere) throw notFound(`object "${objUri(bucket, obj)}"`);
  node.target.stats.delCount++;
  reply(res, req, '200 OK', []);
}

/** A remote bucket's shard is fetched into the cluster first (a cold GET, as for any GET), then read like any shard. */
async function shardHere(node: Node, bucket: string, obj: string, props: BucketProps): Promise<void> {
  if (props.provider !== 'aws') return;
  const h = node.target.openObject(bucket, obj);
  if (h) return fs.closeSync(h.fd);
  try {
    await coldFetch(node.target, bucket, obj, props).lom;
  } catch (err) {
    if (err instanceof RemoteNotFound) throw notFound(`object "s3://${bucket}/${obj}"`);
    throw new ApiError(503, `cold GET of s3://${bucket}/${obj} failed: ${(err as Error).message}`);
  }
}
