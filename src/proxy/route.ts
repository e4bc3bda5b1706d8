// Where a request is served. Object requests belong to the HRW owner target of bucket/object: served
// here when this node is that target, else sent there — streamed through (reverse proxy, the default:
// every unmodified S3 client works) or, with `proxy.s3_redirect`, answered 307 with the owner's URL
// (AIStore's way; cheaper, but unpatched boto3 cannot follow it). Metadata writes belong to the primary.
// A request a gateway forwarded carries the cluster secret in `ais-fwd`: its receiver serves it itself.
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import { forwardRequest, type ForwardTarget } from './forward';
import { deleteOnNeighbours } from '../target/gfn';
import { uploadHolder } from '../target/mpu-id';
import { FWD_HEADER, intraCall, s3Path } from '../cluster/intra';
import { intraAddr, nodeUrl, publicUrl, type Snode } from '../cluster/snode';
import { s3err, S3_ERRORS, type S3ErrorCode } from '../s3/errors';
import type { Node } from '../cluster/node';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deleteObject as deleteRemote } from '../backend/s3';

const REDIRECT_TTL_MS = 5 * 60_000;

function redirectSig(secret: string, method: string, url: string, query: string, utm: string): string {
  // A HEAD may be followed as a GET by nobody; GET and HEAD share one token so either works.
  const m = method === 'HEAD' ? 'GET' : method;
  return createHmac('sha256', secret).update(`${m}\n${url}\n${query}\n${utm}`).digest('base64url');
}

const TOKEN_RE = /&?ais-utm=([0-9a-z]+)&ais-rsig=([A-Za-z0-9_-]+)$/;

/**
 * A request that followed a gateway's redirect: true when its token is valid and fresh; the token is
 * then taken off req.query so that the S3 handlers see the client's query as it was.
 */
export function isRedirected(node: Node, req: Req): boolean {
  const m = TOKEN_RE.exec(req.query);
  if (!m || node.secret === '') return false;
  const query = req.query.slice(0, m.index);
  const [, utm, sig] = m;
  const age = Date.now() - parseInt(utm!, 36);
  if (!(age >= -60_000 && age <= REDIRECT_TTL_MS)) return false;
  const want = Buffer.from(redirectSig(node.secret, req.method, req.url, query, utm!));
  const got = Buffer.from(sig!);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return false;
  (req as { query: string }).query = query; // Req is captured per request: this copy is ours to adjust
  return true;
}

/** Requests that arrived with a valid redirect token (set by handleS3 through isRedirected). */
export const redirected = new WeakSet<Req>();

/** True when a gateway (or the primary's caller) sent this request here to be served locally. */
export function isForwarded(node: Node, req: Req): boolean {
  return node.secret !== '' && header(req, FWD_HEADER) === node.secret;
}

/** The owner target of bucket/object in the current Smap; 503 when the cluster has no target. */
export function ownerOf(node: Node, bucket: string, objName: string): Snode {
  // AIStore's uname names the provider: an s3:// bucket's objects place as "aws/@#/bucket/object".
  const t = node.smap.owner(bucket, objName, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!t) throw s3err('ServiceUnavailable', 'the cluster has no storage targets (yet)');
  return t;
}

/**
 * Serves an object request: `local()` when this target owns the object (or the request was forwarded
 * here), otherwise sends it to the owner. Must be called synchronously from the uWS handler (a forward
 * attaches res.onData at once).
 */
export function toOwner(node: Node, res: HttpResponse, req: Req, bucket: string, objName: string, local: () => Promise<void>): Promise<void> {
  if (isForwarded(node, req) || redirected.has(req)) return local();
  const owner = ownerOf(node, bucket, objName);
  if (owner.id === node.self.id) return local();
  sendTo(node, res, req, owner);
  return Promise.resolve();
}

/**
 * Serves a request of a multipart upload in progress (UploadPart, UploadPartCopy, ListParts, Complete,
 * Abort): on the target its ID names (target/mpu.ts), wherever the object's HRW owner is now — a
 * rebalance does not move uploads. IDs without a target go to the owner (toOwner). A target missing
 * from the Smap may be restarting: 503, which clients retry. Synchronous like toOwner.
 */
export function toUploadHolder(node: Node, res: HttpResponse, req: Req, bucket: string, objName: string, uploadId: string, local: () => Promise<void>): Promise<void> {
  const holder = uploadHolder(uploadId);
  if (holder === undefined) return toOwner(node, res, req, bucket, objName, local);
  if (holder === node.self.id || isForwarded(node, req) || redirected.has(req)) return local();
  const t = node.smap.get(holder);
  if (!t || !node.smap.targets().includes(t)) throw s3err('ServiceUnavailable', `target ${holder}, which holds upload ${uploadId}, is not in the cluster map`);
  sendTo(node, res, req, t);
  return Promise.resolve();
}

/** Metadata writes (buckets, props, config): run here on the primary, else sent to it. */
export function toPrimary(node: Node, res: HttpResponse, req: Req, local: () => Promise<void>): Promise<void> {
  if (node.isPrimary) return local();
  const p = node.smap.primary;
  if (!p) throw s3err('ServiceUnavailable', 'no primary proxy in the cluster map');
  // In an extra HTTP thread of the primary itself: to the main thread, which holds the primary's duties
  // (the public port could hand the request to another extra thread).
  forwardTo(node, res, req, p.id === node.self.id && node.mainAddr ? node.mainAddr : intraAddr(p));
  return Promise.resolve();
}

/** Virtual-hosted S3 requests: their path-style URL ("/s3/<bucket>/<key>"), set by the gateway. A
 *  forwarded request keeps its Host and path (the owner resolves the bucket again and re-verifies
 *  SigV4 over the path as sent); a redirect must send the client to the path-style URL. */
export const pathStyle = new WeakMap<Req, string>();

function sendTo(node: Node, res: HttpResponse, req: Req, to: Snode): void {
  if (node.config.proxy.s3_redirect) return redirect(node, res, req, to);
  forwardTo(node, res, req, intraAddr(to));
}

function forwardTo(node: Node, res: HttpResponse, req: Req, to: ForwardTarget): void {
  const pathAndQuery = req.query ? `${req.url}?${req.query}` : req.url;
  forwardRequest(res, req, to, pathAndQuery, { [FWD_HEADER]: node.secret });
}

/**
 * 307 to the owner, path and query unchanged, plus a redirect token (`ais-utm`, `ais-rsig`: an HMAC
 * with the cluster secret over method, path, query and time). The client's SigV4 signature covers the
 * proxy's Host, so the owner cannot verify it again; the token says a gateway verified it (AIStore
 * signs its redirects the same way). Valid for REDIRECT_TTL_MS.
 */
function redirect(node: Node, res: HttpResponse, req: Req, to: Snode): void {
  res.onData(() => {}); // the body (if any) goes to the owner when the client follows the redirect
  const utm = Date.now().toString(36);
  // A virtual-hosted request names its bucket in a Host the owner's URL does not carry: path style there.
  const url = pathStyle.get(req) ?? req.url;
  const token = `ais-utm=${utm}&ais-rsig=${redirectSig(node.secret, req.method, url, req.query, utm)}`;
  const loc = `${publicUrl(to)}${url}?${req.query ? `${req.query}&` : ''}${token}`;
  const xmlLoc = loc.replace(/&/g, '&amp;');
  reply(res, req, '307 Temporary Redirect', [['Location', loc], ['Content-Type', 'application/xml']],
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to the specified temporary endpoint.</Message><Endpoint>${xmlLoc}</Endpoint></Error>`);
}

/** Deletes bucket/objName on its owner (DeleteObjects' keys); a missing object is no error. */
export async function removeObject(node: Node, bucket: string, objName: string): Promise<void> {
  const owner = ownerOf(node, bucket, objName);
  if (owner.id === node.self.id) {
    const props = node.bmd.get(bucket);
    if (props?.provider === 'aws') await deleteRemote(bucket, objName, props); // write-through, as DeleteObject
    else await deleteOnNeighbours(node, undefined, bucket, objName);
    if (await node.target.deleteObject(bucket, objName)) node.target.stats.delCount++;
    return;
  }
  const r = await intraCall(nodeUrl(owner), s3Path(bucket, objName), { method: 'DELETE', headers: { [FWD_HEADER]: node.secret } });
  if (r.status === 204 || r.status === 200 || r.status === 404) return;
  const code = /<Code>([^<]*)<\/Code>/.exec(r.body.toString())?.[1];
  throw code && Object.hasOwn(S3_ERRORS, code) ? s3err(code as S3ErrorCode) : s3err('InternalError', `target ${owner.id}: status ${r.status}`);
}
