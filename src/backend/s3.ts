// The aws backend provider: what the cluster asks of the S3 bucket behind an `s3://` bucket (HEAD
// bucket, HEAD/GET/PUT/DELETE object, list a page). One SDK client per (endpoint, region, profile):
// credentials come from the SDK's default chain (environment, shared config/credentials files, the
// bucket's profile), as AIStore's aws backend takes them. A custom endpoint is addressed path-style
// (MinIO, another tais, moto: no virtual-hosted DNS on loopback).
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { BucketProps } from '../cluster/config';
import type { InventoryStore } from './inventory';
import { s3InventoryStore } from './inventory-s3';

/** What the remote says about one object. */
export interface RemoteObject {
  size: number;
  /** Unquoted. */
  etag: string;
  /** Remote VersionId when the remote bucket is versioned. */
  version?: string;
  mtime: number;
  contentType?: string;
  meta?: Record<string, string>;
}

export interface RemotePage {
  entries: { name: string; size: number; etag: string; mtime: number }[];
  commonPrefixes: string[];
  /** Pass back to get the next page; undefined on the last page. */
  next?: string;
}

/** A failure of the remote: `status` is the remote's HTTP status (0: unreachable), `code` its S3 code. */
export class BackendError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const clients = new Map<string, S3Client>();

function clientFor(props: BucketProps): S3Client {
  const aws = props.extra?.aws ?? { endpoint: '', cloud_region: '', profile: '' };
  const key = `${aws.endpoint}\n${aws.cloud_region}\n${aws.profile}`;
  let c = clients.get(key);
  if (!c) {
    c = new S3Client({
      region: aws.cloud_region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      ...(aws.endpoint ? { endpoint: aws.endpoint, forcePathStyle: true } : {}),
      ...(aws.profile ? { profile: aws.profile } : {}),
      // The cluster checks its own checksums; the remote's response checksums are not asked for, so
      // a cold GET streams without the SDK buffering to validate them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
    });
    clients.set(key, c);
  }
  return c;
}

function backendError(err: unknown, what: string): BackendError {
  if (err instanceof BackendError) return err;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode ?? 500;
    const code = err.name === 'NotFound' ? (what.startsWith('bucket') ? 'NoSuchBucket' : 'NoSuchKey') : err.name;
    return new BackendError(status, code, `${what}: remote answered ${status} ${code}${err.message && err.message !== 'UnknownError' ? `: ${err.message}` : ''}`);
  }
  const e = err as NodeJS.ErrnoException;
  return new BackendError(0, e.code ?? e.name ?? 'NetworkingError', `${what}: remote request failed: ${e.message}`);
}

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

/** Fails unless the remote bucket exists and our credentials reach it. */
export async function headBucket(bucket: string, props: BucketProps): Promise<void> {
  try {
    await clientFor(props).send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    throw backendError(err, `bucket s3://${bucket}`);
  }
}

/** The remote object's props, or undefined when it does not exist. */
export async function headObject(bucket: string, key: string, props: BucketProps): Promise<RemoteObject | undefined> {
  try {
    const r = await clientFor(props).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      size: r.ContentLength ?? 0,
      etag: unquote(r.ETag),
      ...(r.VersionId && r.VersionId !== 'null' ? { version: r.VersionId } : {}),
      mtime: r.LastModified?.getTime() ?? Date.now(),
      ...(r.ContentType ? { contentType: r.ContentType } : {}),
      ...(r.Metadata && Object.keys(r.Metadata).length ? { meta: r.Metadata } : {}),
    };
  } catch (err) {
    const e = backendError(err, `s3://${bucket}/${key}`);
    if (e.status === 404) return undefined;
    throw e;
  }
}

/** Starts a GET of the whole object: its props and the body as it arrives (undefined: no such object). */
export async function getObject(bucket: string, key: string, props: BucketProps, signal?: AbortSignal): Promise<{ obj: RemoteObject; body: Readable } | undefined> {
  try {
    const r = await clientFor(props).send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
    return {
      obj: {
        size: r.ContentLength ?? -1,
        etag: unquote(r.ETag),
        ...(r.VersionId && r.VersionId !== 'null' ? { version: r.VersionId } : {}),
        mtime: r.LastModified?.getTime() ?? Date.now(),
        ...(r.ContentType ? { contentType: r.ContentType } : {}),
        ...(r.Metadata && Object.keys(r.Metadata).length ? { meta: r.Metadata } : {}),
      },
      body: r.Body as Readable,
    };
  } catch (err) {
    const e = backendError(err, `s3://${bucket}/${key}`);
    if (e.status === 404) return undefined;
    throw e;
  }
}

/** Writes the object to the remote from a stream of known size; resolves with the remote's ETag and version. */
export async function putObject(
  bucket: string,
  key: string,
  props: BucketProps,
  body: Readable,
  size: number,
  opts: { contentType?: string; meta?: Record<string, string> },
): Promise<{ etag: string; version?: string }> {
  try {
    const r = await clientFor(props).send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentLength: size,
        ...(opts.contentType ? { ContentType: opts.contentType } : {}),
        ...(opts.meta ? { Metadata: opts.meta } : {}),
      }),
    );
    return { etag: unquote(r.ETag), ...(r.VersionId && r.VersionId !== 'null' ? { version: r.VersionId } : {}) };
  } catch (err) {
    throw backendError(err, `PUT s3://${bucket}/${key}`);
  }
}

/** One part of a multipart write to the remote: its byte range in the object. */
export interface RemotePart {
  start: number;
  length: number;
}

/**
 * Writes the object to the remote with the remote's own multipart upload, one UploadPart per given
 * range (`open` streams a range), `conc` at a time; resolves with the remote's ETag and version. Any
 * failure aborts the remote upload, so nothing half-written stays there.
 */
export async function putObjectMultipart(
  bucket: string,
  key: string,
  props: BucketProps,
  parts: readonly RemotePart[],
  open: (p: RemotePart) => Readable,
  opts: { contentType?: string; meta?: Record<string, string> },
  conc = 4,
): Promise<{ etag: string; version?: string }> {
  const c = clientFor(props);
  const what = `multipart PUT s3://${bucket}/${key}`;
  let uploadId: string | undefined;
  try {
    const created = await c.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ...(opts.contentType ? { ContentType: opts.contentType } : {}),
        ...(opts.meta ? { Metadata: opts.meta } : {}),
      }),
    );
    uploadId = created.UploadId;
    if (!uploadId) throw new BackendError(502, 'InvalidResponse', `${what}: the remote gave no UploadId`);
    const etags: string[] = new Array(parts.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < parts.length) {
        const i = next++;
        const p = parts[i]!;
        const r = await c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1, Body: open(p), ContentLength: p.length }));
        etags[i] = r.ETag ?? '';
      }
    };
    await Promise.all(Array.from({ length: Math.min(conc, parts.length) }, worker));
    const done = await c.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    return { etag: unquote(done.ETag), ...(done.VersionId && done.VersionId !== 'null' ? { version: done.VersionId } : {}) };
  } catch (err) {
    if (uploadId) await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => {});
    throw backendError(err, what);
  }
}

export async function deleteObject(bucket: string, key: string, props: BucketProps): Promise<void> {
  try {
    await clientFor(props).send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    const e = backendError(err, `DELETE s3://${bucket}/${key}`);
    if (e.status !== 404) throw e;
  }
}

/**
 * One page of the remote listing (ListObjectsV2). `after` is the last name the caller has seen: the
 * page starts after it (StartAfter), so our continuation token stays "the last name" for every provider.
 */
export async function listPage(
  bucket: string,
  props: BucketProps,
  q: { prefix: string; delimiter: string; after: string; maxKeys: number; token?: string },
): Promise<RemotePage> {
  try {
    const r = await clientFor(props).send(
      new ListObjectsV2Command({
        Bucket: bucket,
        MaxKeys: Math.min(q.maxKeys, 1000),
        ...(q.prefix ? { Prefix: q.prefix } : {}),
        ...(q.delimiter ? { Delimiter: q.delimiter } : {}),
        ...(q.token ? { ContinuationToken: q.token } : q.after ? { StartAfter: q.after } : {}),
      }),
    );
    return {
      entries: (r.Contents ?? []).map((o) => ({ name: o.Key ?? '', size: o.Size ?? 0, etag: unquote(o.ETag), mtime: o.LastModified?.getTime() ?? 0 })),
      commonPrefixes: (r.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      ...(r.IsTruncated && r.NextContinuationToken ? { next: r.NextContinuationToken } : {}),
    };
  } catch (err) {
    throw backendError(err, `list s3://${bucket}`);
  }
}

/** The bucket holding an S3 inventory, read with the same endpoint and credentials as `props`' bucket. */
export function inventoryStore(bucket: string, props: BucketProps): InventoryStore {
  return s3InventoryStore(clientFor(props), bucket);
}
