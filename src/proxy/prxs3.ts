// The gateway's S3 front end: every request becomes a typed S3Op (routeS3); bucket reads are served
// from the BMD here, bucket writes by the primary (src/proxy/route.ts), listings merged from all targets
// (fanout.ts), and object operations by the object's HRW owner target — in this process when this node
// is that target, else streamed to it (or redirected, with proxy.s3_redirect).
import type { HttpResponse } from '../util/uws';
import { reply, header, type Req } from '../api/http';
import { routeS3, type S3Op, type ListObjectsOp, type ListObjectsV2Op } from '../s3/router';
import type { CopySource } from '../s3/ops';
import { s3err, noSuchBucket, notImplemented } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { authenticateS3 } from '../s3/auth';
import { authorizeS3 } from '../authn/s3-access';
import { frontendWait } from './ratelimit';
import { guardBodyHash, payloadHashCheck } from '../s3/sigv4-stream';
import { validateBucketName } from '../s3/names';
import { listBucketsXml, locationXml, versioningXml } from '../s3/bucket-xml';
import { listObjectsV1Xml, listObjectsV2Xml, type Owner } from '../s3/list-xml';
import { featureOn, newBucketProps, type BucketProps } from '../cluster/config';
import { putObjectS3, getObjectS3, deleteObjectS3 } from '../target/tgts3';
import { getRemoteS3, deleteRemoteS3, cacheRemote } from '../target/tgts3-remote';
import { putRemoteS3, stagedRemote } from '../target/tgts3-remote-put';
import { completeHooks } from '../target/mpu-place';
import { deleteOnNeighbours, getOrAskNeighbours } from '../target/gfn';
import type { Node } from '../cluster/node';
import { copyObjectS3, type CopyDst } from '../target/copy';
import type { Snode } from '../cluster/snode';
import { copyObjectRemoteS3 } from '../target/copy-remote';
import { uploadPartCopyS3 } from '../target/mpu-copy';
import { objectTaggingS3 } from '../target/tagging';
import { deleteObjectsS3 } from './prxs3-multi';
import { handleSmallCall } from './prxs3-small';
import { toOwner, toUploadHolder, toPrimary, isForwarded, isRedirected, redirected, removeObject, pathStyle } from './route';
import { virtualHostBucket } from '../s3/vhost';
import { listCluster, bucketEmptyCluster, uploadsCluster } from './fanout';
import { listRemote } from './list-remote';
import { inventoryAsk, listInventory, HDR_INV_TIME } from './list-inventory';
import { hasS3Signature } from '../backend/presigned';
import {
  createMultipartUploadS3,
  uploadPartS3,
  completeMultipartUploadS3,
  abortMultipartUploadS3,
  listPartsS3,
  listMultipartUploadsS3,
  getObjectPartS3,
} from '../target/mpu-s3';

const OWNER: Owner = { id: 'tais', displayName: 'tais' };
const XML: readonly [string, string] = ['Content-Type', 'application/xml'];

export function handleS3(node: Node, res: HttpResponse, req: Req, path: string): void {
  let op: S3Op;
  try {
    // A client that followed a gateway's 307: the gateway verified its signature (see route.ts redirect).
    const viaRedirect = isRedirected(node, req);
    if (viaRedirect) redirected.add(req);
    // Virtual-hosted style: the bucket is in the Host; the path (as sent, which SigV4 signs) is the key.
    const vbucket = virtualHostBucket(node.config.s3?.virtual_host_domain, req.headers['host']);
    if (vbucket !== undefined) pathStyle.set(req, `/s3/${vbucket}${path}`);
    op = routeS3(req.method, vbucket === undefined ? path : `/${vbucket}${path}`, req.query, (name) => header(req, name));
    // A request another node made itself (forwarded with the cluster secret, no client signature) is
    // trusted; a client's request is verified wherever it lands, so the owner can check its body.
    if (!viaRedirect && !(isForwarded(node, req) && !hasClientSignature(req)) && !presignedOffload(node, op, req)) authenticateS3(node.config, req, path);
    if (!viaRedirect) authorizeS3(node, req, op);
    if (!viaRedirect && 'bucket' in op && !isForwarded(node, req)) {
      const wait = frontendWait(node, op.bucket, req.method);
      if (wait > 0) throw s3err('SlowDown', `Please reduce your request rate: bucket ${op.bucket} is over its rate_limit.frontend (retry in ${wait} ms).`);
    }
    if (op.kind !== 'PutObject' && op.kind !== 'UploadPart') {
      const check = payloadHashCheck(req);
      if (check) guardBodyHash(res, req, check);
    }
  } catch (err) {
    sendS3Error(res, req, err);
    return;
  }
  try {
    dispatch(node, res, req, op).catch((err: unknown) => sendS3Error(res, req, err));
  } catch (err) {
    sendS3Error(res, req, err);
  }
}

/**
 * S3-Presigned-Request on an s3:// bucket: a signed GET/HEAD/PUT carries the remote's signature, not ours,
 * and the owner re-issues it to the remote, which verifies it (target/tgts3-remote.ts). Checking it
 * here against our keys would refuse every such request (AIStore's 403 with AuthN on).
 */
function presignedOffload(node: Node, op: S3Op, req: Req): boolean {
  return (
    hasS3Signature(req) &&
    (op.kind === 'GetObject' || op.kind === 'HeadObject' || op.kind === 'PutObject') &&
    node.bmd.get(op.bucket)?.provider === 'aws' &&
    featureOn(node.config, node.bmd.get(op.bucket), 'S3-Presigned-Request')
  );
}

function hasClientSignature(req: Req): boolean {
  return (req.headers['authorization'] ?? '') !== '' || /(^|&)X-Amz-(Signature|Credential)=/.test(req.query);
}

function bucketProps(node: Node, bucket: string): BucketProps {
  const props = node.bmd.get(bucket);
  if (!props) throw noSuchBucket(bucket);
  return props;
}

/** Object requests: runs `local` on the owner target (see toOwner); the bucket must exist first. */
function objectOp(node: Node, res: HttpResponse, req: Req, bucket: string, key: string, local: (props: BucketProps) => Promise<void> | void): Promise<void> {
  const props = bucketProps(node, bucket);
  return toOwner(node, res, req, bucket, key, async () => local(node.bmd.get(bucket) ?? props));
}

/** A request of a multipart upload in progress: served on the target holding the upload (route.ts). */
function uploadOp(
  node: Node,
  res: HttpResponse,
  req: Req,
  op: { bucket: string; key: string; uploadId: string },
  local: (props: BucketProps) => Promise<void> | void,
): Promise<void> {
  const props = bucketProps(node, op.bucket);
  return toUploadHolder(node, res, req, op.bucket, op.key, op.uploadId, async () => local(node.bmd.get(op.bucket) ?? props));
}

/** The copy source's owner target when it is another one (placed by the source bucket's provider). */
function copySourceOwner(node: Node, src: CopySource, srcProps: BucketProps): Snode | undefined {
  const from = node.smap.owner(src.bucket, src.key, srcProps.provider);
  return from && from.id !== node.self.id ? from : undefined;
}

/**
 * A remote bucket's copy source owned here is fetched into the cluster first, as a cold GET would. The
 * copy's own handler attaches res.onData afterwards (a copy has no body): attaching it here as well
 * once made the body-hash check see the body's end twice.
 */
async function cacheCopySource(node: Node, src: CopySource, srcProps: BucketProps): Promise<void> {
  if (srcProps.provider === 'aws') await cacheRemote(node.target, src.bucket, src.key, srcProps);
}

// Not async: object operations must reach toOwner (which attaches res.onData) synchronously.
function dispatch(node: Node, res: HttpResponse, req: Req, op: S3Op): Promise<void> {
  switch (op.kind) {
    case 'ListBuckets': {
      const buckets = node.bmd.names().filter((n) => n.startsWith(op.prefix)).map((name) => ({ name, creationMs: node.bmd.get(name)!.created }));
      reply(res, req, '200 OK', [XML], listBucketsXml({ buckets, prefix: op.prefix }, OWNER));
      return Promise.resolve();
    }
    case 'CreateBucket':
      validateBucketName(op.bucket, 'create');
      return toPrimary(node, res, req, async () => {
        res.onData(() => {}); // the optional CreateBucketConfiguration body carries a region: nothing for us to keep
        await node.primary!.modifyBmd((b) => {
          if (Object.hasOwn(b, op.bucket)) throw s3err('BucketAlreadyOwnedByYou', undefined, { BucketName: op.bucket });
          b[op.bucket] = newBucketProps(node.config);
        });
        reply(res, req, '200 OK', [['Location', `/${op.bucket}`]]);
      });
    case 'DeleteBucket':
      bucketProps(node, op.bucket);
      return toPrimary(node, res, req, async () => {
        if (!(await bucketEmptyCluster(node, op.bucket))) throw s3err('BucketNotEmpty', undefined, { BucketName: op.bucket });
        await node.primary!.modifyBmd((b) => {
          if (!Object.hasOwn(b, op.bucket)) throw noSuchBucket(op.bucket);
          delete b[op.bucket];
        });
        reply(res, req, '204 No Content', []);
      });
    case 'HeadBucket':
      bucketProps(node, op.bucket);
      reply(res, req, '200 OK', [['x-amz-bucket-region', node.region]]);
      return Promise.resolve();
    case 'GetBucketLocation':
      bucketProps(node, op.bucket);
      reply(res, req, '200 OK', [XML], locationXml(node.region === 'us-east-1' ? '' : node.region));
      return Promise.resolve();
    case 'GetBucketVersioning':
      bucketProps(node, op.bucket);
      reply(res, req, '200 OK', [XML], versioningXml());
      return Promise.resolve();
    case 'ListObjects':
    case 'ListObjectsV2':
      return listObjects(node, res, req, op);
    case 'PutObject':
      return objectOp(node, res, req, op.bucket, op.key, (props) =>
        props.provider === 'aws' ? putRemoteS3(node.target, res, req, op, props) : putObjectS3(node.target, res, req, op, props),
      );
    case 'GetObject':
    case 'HeadObject':
      return objectOp(node, res, req, op.bucket, op.key, (props) => {
        // A remote bucket's owner fetches what it lacks from the remote; an ais:// one asks the other
        // targets while a rebalance runs (get-from-neighbour).
        if (props.provider === 'aws') return getRemoteS3(node.target, res, req, op, props);
        return getOrAskNeighbours({
          node,
          res,
          req,
          bucket: op.bucket,
          objName: op.key,
          local: async () => (op.partNumber !== undefined ? getObjectPartS3(node.target, res, req, op, props) : getObjectS3(node.target, res, req, op, props)),
          fail: (err) => sendS3Error(res, req, err),
        });
      });
    case 'DeleteObject':
      return objectOp(node, res, req, op.bucket, op.key, (props) =>
        props.provider === 'aws'
          ? deleteRemoteS3(node.target, res, req, op, props)
          : deleteOnNeighbours(node, req, op.bucket, op.key).then(() => deleteObjectS3(node.target, res, req, op)),
      );
    case 'CreateMultipartUpload':
      return objectOp(node, res, req, op.bucket, op.key, () => createMultipartUploadS3(node.target, res, req, op, node.self.id));
    case 'UploadPart':
      return uploadOp(node, res, req, op, () => uploadPartS3(node.target, res, req, op));
    case 'GetObjectTagging':
    case 'PutObjectTagging':
    case 'DeleteObjectTagging':
      return objectOp(node, res, req, op.bucket, op.key, () => objectTaggingS3(node.target, res, req, op));
    case 'UploadPartCopy': {
      const srcProps = bucketProps(node, op.copySource.bucket);
      return uploadOp(node, res, req, op, async () => {
        const from = copySourceOwner(node, op.copySource, srcProps);
        if (!from) await cacheCopySource(node, op.copySource, srcProps);
        return uploadPartCopyS3(node.target, node.secret, from, res, req, op);
      });
    }
    case 'CompleteMultipartUpload':
      return uploadOp(node, res, req, op, (props) => completeMultipartUploadS3(node.target, res, req, op, props, completeHooks(node, op.bucket, op.key, props)));
    case 'AbortMultipartUpload':
      return uploadOp(node, res, req, op, () => abortMultipartUploadS3(node.target, res, req, op));
    case 'ListParts':
      return uploadOp(node, res, req, op, () => listPartsS3(node.target, res, req, op));
    case 'ListMultipartUploads':
      bucketProps(node, op.bucket);
      return uploadsCluster(node, op.bucket).then((all) => listMultipartUploadsS3(all, res, req, op));
    case 'CopyObject': {
      // The source bucket first: a missing source bucket is NoSuchBucket naming it.
      const srcProps = bucketProps(node, op.copySource.bucket);
      return objectOp(node, res, req, op.bucket, op.key, async (props) => {
        // On the destination's owner: the source is here (a remote bucket's fetched first if missing), or
        // read from its owner (which fetches it). Into a remote bucket the copy is staged, then written through.
        let to: CopyDst | undefined;
        if (props.provider === 'aws') {
          if (['if-match', 'if-none-match'].some((c) => header(req, c) !== '')) throw s3err('NotImplemented', 'conditional copy is not supported into remote (s3://) buckets');
          to = stagedRemote(node.target, op.bucket, op.key, props);
        }
        const from = copySourceOwner(node, op.copySource, srcProps);
        if (from) return copyObjectRemoteS3(node.target, node.secret, from, res, req, op, props, to);
        await cacheCopySource(node, op.copySource, srcProps);
        return copyObjectS3(node.target, res, req, op, props, to);
      });
    }
    case 'DeleteObjects':
      bucketProps(node, op.bucket);
      deleteObjectsS3((key) => removeObject(node, op.bucket, key), res, req, op);
      return Promise.resolve();
    case 'Unsupported': {
      const small = (): Promise<void> =>
        handleSmallCall(node, res, req, op, OWNER).then((served) => {
          if (!served) throw notImplemented(op.what);
        });
      // Object sub-resources (ACL, tagging) are the owner's; bucket ones are answered here.
      return op.key !== undefined && op.bucket !== '' ? objectOp(node, res, req, op.bucket, op.key, small) : small();
    }
    default:
      throw notImplemented((op as S3Op).kind);
  }
}

async function listObjects(node: Node, res: HttpResponse, req: Req, op: ListObjectsOp | ListObjectsV2Op): Promise<void> {
  const props = bucketProps(node, op.bucket);
  let after: string;
  if (op.kind === 'ListObjects') after = op.marker;
  else if (op.continuationToken) after = decodeToken(op.continuationToken);
  else after = op.startAfter;
  const q = { prefix: op.prefix, delimiter: op.delimiter, after, maxKeys: op.maxKeys };
  // A remote bucket lists the remote (objects not cached yet included), as AIStore's S3 front end does;
  // from its S3 inventory when the request asks for that (Ais-Bucket-Inventory).
  const inv = props.provider === 'aws' ? inventoryAsk((n) => header(req, n)) : undefined;
  const page = inv
    ? await listInventory(op.bucket, props, inv, node, q)
    : props.provider === 'aws'
      ? await listRemote(node, op.bucket, props, q)
      : await listCluster(node, op.bucket, q);
  const common = { contents: page.entries, commonPrefixes: page.commonPrefixes, isTruncated: page.truncated };
  const body =
    op.kind === 'ListObjects'
      ? listObjectsV1Xml(op, { ...common, nextMarker: page.truncated ? page.last : undefined }, OWNER)
      : listObjectsV2Xml(op, { ...common, nextContinuationToken: page.truncated ? encodeToken(page.last) : undefined }, OWNER);
  const invTime = 'createdMs' in page && typeof page.createdMs === 'number' ? new Date(page.createdMs).toISOString() : undefined;
  reply(res, req, '200 OK', invTime ? [XML, [HDR_INV_TIME, invTime]] : [XML], body);
}

// Continuation tokens are opaque to clients: the last name listed, base64url so any key survives a URL.
function encodeToken(last: string): string {
  return Buffer.from(last, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const s = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeToken(s) !== token) throw s3err('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  return s;
}
