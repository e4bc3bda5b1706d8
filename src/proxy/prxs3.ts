// The gateway's S3 front end: every request becomes a typed S3Op (routeS3), bucket operations are
// served from the BMD here, object operations go to the owning target. With one node the target is in
// this process; the cluster will route them to remote targets instead.
import type { HttpResponse } from '../util/uws';
import { reply, header, type Req } from '../api/http';
import { routeS3, type S3Op, type ListObjectsOp, type ListObjectsV2Op } from '../s3/router';
import { s3err, noSuchBucket, notImplemented } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { authenticateS3 } from '../s3/auth';
import { guardBodyHash, payloadHashCheck } from '../s3/sigv4-stream';
import { validateBucketName } from '../s3/names';
import { listBucketsXml, locationXml, versioningXml } from '../s3/bucket-xml';
import { listObjectsV1Xml, listObjectsV2Xml, type Owner } from '../s3/list-xml';
import { newBucketProps, type BucketProps } from '../cluster/config';
import { listPage, bucketIsEmpty } from '../target/list';
import { putObjectS3, getObjectS3, deleteObjectS3 } from '../target/tgts3';
import type { Node } from '../cluster/node';
import { copyObjectS3 } from '../target/copy';
import { deleteObjectsS3 } from './prxs3-multi';
import { handleSmallCall } from './prxs3-small';
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
    op = routeS3(req.method, path, req.query, (name) => header(req, name));
    authenticateS3(node.config, req, path);
    if (op.kind !== 'PutObject' && op.kind !== 'UploadPart') {
      const check = payloadHashCheck(req);
      if (check) guardBodyHash(res, req, check);
    }
  } catch (err) {
    sendS3Error(res, req, err);
    return;
  }
  dispatch(node, res, req, op).catch((err: unknown) => sendS3Error(res, req, err));
}

function bucketProps(node: Node, bucket: string): BucketProps {
  const props = node.bmd.get(bucket);
  if (!props) throw noSuchBucket(bucket);
  return props;
}

async function dispatch(node: Node, res: HttpResponse, req: Req, op: S3Op): Promise<void> {
  const t = node.target;
  switch (op.kind) {
    case 'ListBuckets': {
      const buckets = node.bmd.names().filter((n) => n.startsWith(op.prefix)).map((name) => ({ name, creationMs: node.bmd.get(name)!.created }));
      return reply(res, req, '200 OK', [XML], listBucketsXml({ buckets, prefix: op.prefix }, OWNER));
    }
    case 'CreateBucket': {
      validateBucketName(op.bucket, 'create');
      res.onData(() => {}); // the optional CreateBucketConfiguration body carries a region: nothing for us to keep
      node.bmd.modify((b) => {
        if (Object.hasOwn(b, op.bucket)) throw s3err('BucketAlreadyOwnedByYou', undefined, { BucketName: op.bucket });
        b[op.bucket] = newBucketProps(node.config);
      });
      t.createBucket(op.bucket);
      return reply(res, req, '200 OK', [['Location', `/${op.bucket}`]]);
    }
    case 'DeleteBucket': {
      bucketProps(node, op.bucket);
      if (!(await bucketIsEmpty(t, op.bucket))) throw s3err('BucketNotEmpty', undefined, { BucketName: op.bucket });
      node.bmd.modify((b) => {
        delete b[op.bucket];
      });
      t.destroyBucket(op.bucket);
      return reply(res, req, '204 No Content', []);
    }
    case 'HeadBucket':
      bucketProps(node, op.bucket);
      return reply(res, req, '200 OK', [['x-amz-bucket-region', node.region]]);
    case 'GetBucketLocation':
      bucketProps(node, op.bucket);
      return reply(res, req, '200 OK', [XML], locationXml(node.region === 'us-east-1' ? '' : node.region));
    case 'GetBucketVersioning':
      bucketProps(node, op.bucket);
      return reply(res, req, '200 OK', [XML], versioningXml());
    case 'ListObjects':
    case 'ListObjectsV2':
      return listObjects(node, res, req, op);
    case 'PutObject':
      return putObjectS3(t, res, req, op, bucketProps(node, op.bucket));
    case 'GetObject':
    case 'HeadObject':
      if (op.partNumber !== undefined) return getObjectPartS3(t, res, req, op, bucketProps(node, op.bucket));
      return getObjectS3(t, res, req, op, bucketProps(node, op.bucket));
    case 'DeleteObject':
      bucketProps(node, op.bucket);
      return deleteObjectS3(t, res, req, op);
    case 'CreateMultipartUpload':
      bucketProps(node, op.bucket);
      return createMultipartUploadS3(t, res, req, op);
    case 'UploadPart':
      bucketProps(node, op.bucket);
      return uploadPartS3(t, res, req, op);
    case 'CompleteMultipartUpload':
      return completeMultipartUploadS3(t, res, req, op, bucketProps(node, op.bucket));
    case 'AbortMultipartUpload':
      bucketProps(node, op.bucket);
      return abortMultipartUploadS3(t, res, req, op);
    case 'ListParts':
      bucketProps(node, op.bucket);
      return listPartsS3(t, res, req, op);
    case 'ListMultipartUploads':
      bucketProps(node, op.bucket);
      return listMultipartUploadsS3(t, res, req, op);
    case 'CopyObject':
      // The source bucket first: a missing source bucket is NoSuchBucket naming it.
      bucketProps(node, op.copySource.bucket);
      return copyObjectS3(t, res, req, op, bucketProps(node, op.bucket));
    case 'DeleteObjects':
      bucketProps(node, op.bucket);
      return deleteObjectsS3(t, res, req, op);
    case 'Unsupported':
      if (await handleSmallCall(node, res, req, op, OWNER)) return;
      throw notImplemented(op.what);
    default:
      throw notImplemented(op.kind);
  }
}

async function listObjects(node: Node, res: HttpResponse, req: Req, op: ListObjectsOp | ListObjectsV2Op): Promise<void> {
  bucketProps(node, op.bucket);
  let after: string;
  if (op.kind === 'ListObjects') after = op.marker;
  else if (op.continuationToken) after = decodeToken(op.continuationToken);
  else after = op.startAfter;
  const page = await listPage(node.target, op.bucket, { prefix: op.prefix, delimiter: op.delimiter, after, maxKeys: op.maxKeys });
  const common = { contents: page.entries, commonPrefixes: page.commonPrefixes, isTruncated: page.truncated };
  const body =
    op.kind === 'ListObjects'
      ? listObjectsV1Xml(op, { ...common, nextMarker: page.truncated ? page.last : undefined }, OWNER)
      : listObjectsV2Xml(op, { ...common, nextContinuationToken: page.truncated ? encodeToken(page.last) : undefined }, OWNER);
  reply(res, req, '200 OK', [XML], body);
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
