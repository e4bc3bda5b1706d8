// What each S3 operation needs from a token (access.ts bits), checked by the gateway before dispatch.
import type { Node } from '../cluster/node';
import type { Req } from '../api/http';
import type { S3Op } from '../s3/ops';
import { s3err } from '../s3/errors';
import { Ace } from './access';
import { AuthError, authorize, authnEnabled } from './authn';

const NEEDS: Readonly<Record<S3Op['kind'], bigint>> = {
  ListBuckets: Ace.LIST_BUCKETS,
  CreateBucket: Ace.CREATE_BUCKET,
  DeleteBucket: Ace.DESTROY_BUCKET,
  HeadBucket: Ace.BCK_HEAD,
  GetBucketLocation: Ace.BCK_HEAD,
  GetBucketVersioning: Ace.BCK_HEAD,
  PutBucketVersioning: Ace.PATCH,
  ListObjects: Ace.OBJ_LIST,
  ListObjectsV2: Ace.OBJ_LIST,
  ListMultipartUploads: Ace.OBJ_LIST,
  ListParts: Ace.OBJ_LIST,
  DeleteObjects: Ace.OBJ_DELETE,
  PutObject: Ace.PUT,
  CopyObject: Ace.PUT,
  CreateMultipartUpload: Ace.PUT,
  UploadPart: Ace.PUT,
  UploadPartCopy: Ace.PUT,
  CompleteMultipartUpload: Ace.PUT,
  AbortMultipartUpload: Ace.PUT,
  GetObject: Ace.GET,
  HeadObject: Ace.OBJ_HEAD,
  DeleteObject: Ace.OBJ_DELETE,
  GetObjectTagging: Ace.OBJ_HEAD,
  PutObjectTagging: Ace.OBJ_UPDATE | Ace.PUT,
  DeleteObjectTagging: Ace.OBJ_UPDATE | Ace.PUT,
  Unsupported: Ace.BCK_HEAD,
};

/** Throws S3Error (AccessDenied, InvalidToken, ExpiredToken) unless the request's token allows `op`. */
export function authorizeS3(node: Node, req: Req, op: S3Op): void {
  if (!authnEnabled(node.config)) return;
  const bck = (name: string): { name: string; provider: string } => ({ name, provider: node.bmd.get(name)?.provider ?? 'ais' });
  try {
    authorize(node, req, NEEDS[op.kind], 'bucket' in op ? bck(op.bucket) : undefined);
    // A copy reads its source: the token must also allow GET there.
    if (op.kind === 'CopyObject' || op.kind === 'UploadPartCopy') authorize(node, req, Ace.GET, bck(op.copySource.bucket));
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    const code = err.reason === 'invalid' ? 'InvalidToken' : err.reason === 'expired' ? 'ExpiredToken' : 'AccessDenied';
    throw s3err(code, err.message);
  }
}
