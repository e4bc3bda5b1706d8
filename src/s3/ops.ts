// Every S3 request becomes one of these values before any handler runs (Garage's Endpoint, see
// STYLE.md). Names and fields follow the S3 API reference so a handler reads like the documentation.
// Strings that S3 treats as "absent when empty" (prefix, delimiter, markers) are '' when absent.

export interface ListBucketsOp {
  kind: 'ListBuckets';
  prefix: string;
  continuationToken: string;
  /** undefined: no limit asked (S3 then lists everything). */
  maxBuckets: number | undefined;
}

export interface CreateBucketOp { kind: 'CreateBucket'; bucket: string }
export interface DeleteBucketOp { kind: 'DeleteBucket'; bucket: string }
export interface HeadBucketOp { kind: 'HeadBucket'; bucket: string }
export interface GetBucketLocationOp { kind: 'GetBucketLocation'; bucket: string }
export interface GetBucketVersioningOp { kind: 'GetBucketVersioning'; bucket: string }
export interface PutBucketVersioningOp { kind: 'PutBucketVersioning'; bucket: string }

/** ListObjects (v1). */
export interface ListObjectsOp {
  kind: 'ListObjects';
  bucket: string;
  prefix: string;
  delimiter: string;
  marker: string;
  /** 0..1000; default 1000 (larger requests are clamped, as S3 does). */
  maxKeys: number;
  encodingType: 'url' | undefined;
}

export interface ListObjectsV2Op {
  kind: 'ListObjectsV2';
  bucket: string;
  prefix: string;
  delimiter: string;
  /** Opaque, as the client sent it back. */
  continuationToken: string;
  startAfter: string;
  maxKeys: number;
  encodingType: 'url' | undefined;
  fetchOwner: boolean;
}

export interface ListMultipartUploadsOp {
  kind: 'ListMultipartUploads';
  bucket: string;
  prefix: string;
  delimiter: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
  encodingType: 'url' | undefined;
}

/** POST /bucket?delete (AIStore also accepts DELETE /bucket?delete). The XML body lists the keys. */
export interface DeleteObjectsOp { kind: 'DeleteObjects'; bucket: string }

export interface PutObjectOp { kind: 'PutObject'; bucket: string; key: string }

/** Source of CopyObject/UploadPartCopy, from x-amz-copy-source (percent-decoded). */
export interface CopySource {
  bucket: string;
  key: string;
  versionId: string | undefined;
}

export interface CopyObjectOp { kind: 'CopyObject'; bucket: string; key: string; copySource: CopySource }

/** The response-* query parameters of GetObject; each replaces the response header it names. */
export interface ResponseOverrides {
  contentType?: string;
  contentLanguage?: string;
  expires?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
}

export interface GetObjectOp {
  kind: 'GetObject';
  bucket: string;
  key: string;
  partNumber: number | undefined;
  versionId: string | undefined;
  responseOverrides: ResponseOverrides;
}

export interface HeadObjectOp {
  kind: 'HeadObject';
  bucket: string;
  key: string;
  partNumber: number | undefined;
  versionId: string | undefined;
}

export interface DeleteObjectOp { kind: 'DeleteObject'; bucket: string; key: string; versionId: string | undefined }

export interface CreateMultipartUploadOp { kind: 'CreateMultipartUpload'; bucket: string; key: string }

export interface UploadPartOp {
  kind: 'UploadPart';
  bucket: string;
  key: string;
  /** 1..10000 */
  partNumber: number;
  uploadId: string;
}

export interface UploadPartCopyOp {
  kind: 'UploadPartCopy';
  bucket: string;
  key: string;
  partNumber: number;
  uploadId: string;
  copySource: CopySource;
  /** x-amz-copy-source-range "bytes=first-last", inclusive; undefined copies the whole source. */
  copySourceRange: { start: number; end: number } | undefined;
}

export interface CompleteMultipartUploadOp { kind: 'CompleteMultipartUpload'; bucket: string; key: string; uploadId: string }
export interface AbortMultipartUploadOp { kind: 'AbortMultipartUpload'; bucket: string; key: string; uploadId: string }

export interface ListPartsOp {
  kind: 'ListParts';
  bucket: string;
  key: string;
  uploadId: string;
  maxParts: number;
  partNumberMarker: number;
}

/** ?tagging on an object: GET / PUT (the <Tagging> body) / DELETE. */
export interface ObjectTaggingOp {
  kind: 'GetObjectTagging' | 'PutObjectTagging' | 'DeleteObjectTagging';
  bucket: string;
  key: string;
  versionId: string | undefined;
}

/**
 * An S3 operation we recognise but do not implement (ACLs, CORS, policies, tagging, object versions,
 * ...). The server answers 501 NotImplemented with an S3 error body, instead of mistaking the request
 * for a neighbour (AIStore lists the bucket on GET ?location).
 * `what` is the S3 API operation name, e.g. 'GetBucketCors', 'ListObjectVersions', 'PutObjectTagging'.
 */
export interface UnsupportedOp {
  kind: 'Unsupported';
  bucket: string;
  key: string | undefined;
  what: string;
}

export type S3Op =
  | ListBucketsOp
  | CreateBucketOp
  | DeleteBucketOp
  | HeadBucketOp
  | GetBucketLocationOp
  | GetBucketVersioningOp
  | PutBucketVersioningOp
  | ListObjectsOp
  | ListObjectsV2Op
  | ListMultipartUploadsOp
  | DeleteObjectsOp
  | PutObjectOp
  | CopyObjectOp
  | GetObjectOp
  | HeadObjectOp
  | DeleteObjectOp
  | CreateMultipartUploadOp
  | UploadPartOp
  | UploadPartCopyOp
  | CompleteMultipartUploadOp
  | AbortMultipartUploadOp
  | ListPartsOp
  | ObjectTaggingOp
  | UnsupportedOp;

export type S3OpKind = S3Op['kind'];
