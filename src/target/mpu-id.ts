// Multipart upload IDs and what a Complete publishes. An ID is the creation time (base36 ms, so IDs sort
// in initiation order, S3's order within a key in ListMultipartUploads) + 96 random bits (base64url) +
// "." and the ID of the target that holds the upload: an upload stays on the target where it was created
// (a rebalance does not move it), and any gateway sends its requests there (proxy/route.ts,
// toUploadHolder). IDs made before had no holder: their requests go to the object's HRW owner.
import { createHash, randomBytes } from 'node:crypto';
import type { CompletedPart } from '../s3/mpu-xml';

const UPLOAD_ID = /^[0-9a-z]{9}[A-Za-z0-9_-]{16}(?:\.([A-Za-z0-9_-]{1,64}))?$/;
const HOLDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A new upload ID made at `created` (ms) on target `holder` (left out if it could not be parsed back). */
export function newUploadId(created: number, holder?: string): string {
  const suffix = holder !== undefined && HOLDER_ID.test(holder) ? `.${holder}` : '';
  return created.toString(36).padStart(9, '0') + randomBytes(12).toString('base64url') + suffix;
}

export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}

/** The ID of the target holding upload `id`, when the ID names one. */
export function uploadHolder(id: string): string | undefined {
  return UPLOAD_ID.exec(id)?.[1];
}

/**
 * What a Complete of upload `id` listing `list` publishes, as far as a retry can tell: the object's
 * ETag and the earliest time it can have been published (the upload's creation). Undefined when the
 * list could not have been completed (bad ETags, parts out of order).
 */
export function completion(id: string, list: readonly CompletedPart[]): { etag: string; created: number } | undefined {
  if (!UPLOAD_ID.test(id) || list.length === 0) return undefined;
  for (let i = 0; i < list.length; i++) {
    if (!/^[0-9a-fA-F]{32}$/.test(list[i]!.etag) || (i > 0 && list[i]!.partNumber <= list[i - 1]!.partNumber)) return undefined;
  }
  return { etag: multipartEtag(list.map((p) => p.etag.toLowerCase())), created: parseInt(id.slice(0, 9), 36) };
}

/** S3's multipart ETag: the MD5 of the parts' binary MD5s, then "-" and the number of parts. */
export function multipartEtag(partMd5s: readonly string[]): string {
  const h = createHash('md5');
  for (const m of partMd5s) h.update(Buffer.from(m, 'hex'));
  return `${h.digest('hex')}-${partMd5s.length}`;
}
