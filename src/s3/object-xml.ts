// Object-level response bodies: multipart upload start/finish, copy results, multi-object delete.

import { isoDate } from './time';
import { S3_XMLNS, XmlWriter } from './xml';
import { checksumElement, type FlexChecksum } from './checksums';

export function initiateMultipartUploadXml(bucket: string, key: string, uploadId: string): string {
  return new XmlWriter()
    .start('InitiateMultipartUploadResult', S3_XMLNS)
    .text('Bucket', bucket)
    .text('Key', key)
    .text('UploadId', uploadId)
    .end()
    .toString();
}

/** etag unquoted, e.g. "<md5 of part md5s>-N"; location is the object's URL; the object's flexible
 *  checksum (ChecksumCRC32 ... and ChecksumType) when the upload had one. */
export function completeMultipartUploadXml(location: string, bucket: string, key: string, etag: string, flex?: FlexChecksum): string {
  const w = new XmlWriter().start('CompleteMultipartUploadResult', S3_XMLNS).text('Location', location).text('Bucket', bucket).text('Key', key).text('ETag', '"' + etag + '"');
  if (flex) w.text(checksumElement(flex.alg), flex.value).text('ChecksumType', flex.type);
  return w.end().toString();
}

/** CopyObjectResult (CopyObject) or CopyPartResult (UploadPartCopy); etag unquoted; the flexible
 *  checksum of the copy when it has one (ChecksumCRC32 ..., and ChecksumType for an object). */
export function copyResultXml(root: 'CopyObjectResult' | 'CopyPartResult', mtimeMs: number, etag: string, flex?: FlexChecksum): string {
  const w = new XmlWriter().start(root, S3_XMLNS).text('LastModified', isoDate(mtimeMs)).text('ETag', '"' + etag + '"');
  if (flex) {
    w.text(checksumElement(flex.alg), flex.value);
    if (root === 'CopyObjectResult') w.text('ChecksumType', flex.type);
  }
  return w.end().toString();
}

export interface DeletedEntry {
  key: string;
  versionId?: string;
}

export interface DeleteErrorEntry {
  key: string;
  code: string;
  message: string;
}

/** DeleteResult of DeleteObjects. In quiet mode the caller passes no `deleted` entries (S3 lists only errors). */
export function deleteResultXml(deleted: readonly DeletedEntry[], errors: readonly DeleteErrorEntry[]): string {
  const w = new XmlWriter().start('DeleteResult', S3_XMLNS);
  for (const d of deleted) w.start('Deleted').text('Key', d.key).maybe('VersionId', d.versionId).end();
  for (const e of errors) w.start('Error').text('Key', e.key).text('Code', e.code).text('Message', e.message).end();
  return w.end().toString();
}
