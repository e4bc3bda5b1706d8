// Bucket and object names as the S3 front end accepts them. Storage-level checks (no '..', no escape
// from the mountpath, file/directory conflicts) belong to the on-disk layer; these are protocol rules.

import { s3err } from './errors';

// S3 general-purpose bucket rules (S3 User Guide, "Bucket naming rules").
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
// Reserved by S3 for its own features. Not enforced: 'amzn-s3-demo-', AWS's prefix for example
// buckets in its documentation, which users of tais copy verbatim and expect to work.
const S3_RESERVED_PREFIXES = ['xn--', 'sthree-'];
const S3_RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

// Names AIStore accepts (cmn/bck.go): letters of either case, digits, '_', '.', '-'; at most 64;
// no '..'. Buckets created through the native API may carry them and S3 clients must reach them.
const AIS_BUCKET = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Throws InvalidBucketName unless name is acceptable.
 * 'create' (CreateBucket over S3): the strict S3 rules, so that a bucket made here works with every
 * S3 tool (and in virtual-host style should we add it).
 * 'access' (every other operation): AIStore's looser rules, since buckets also come from the native
 * API ('My_Bucket', 'a').
 */
export function validateBucketName(name: string, rules: 'create' | 'access' = 'create'): void {
  if (rules === 'access') {
    if (AIS_BUCKET.test(name) && !name.includes('..')) return;
    throw s3err('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  }
  let why: string | undefined;
  if (name.length < 3 || name.length > 63) why = 'must be 3 to 63 characters long';
  else if (!S3_BUCKET.test(name)) why = 'may only hold lowercase letters, digits, dots and hyphens, and must begin and end with a letter or digit';
  else if (name.includes('..')) why = 'must not contain two adjacent periods';
  else if (IPV4_LIKE.test(name)) why = 'must not be formatted as an IP address';
  else if (S3_RESERVED_PREFIXES.some((p) => name.startsWith(p)) || S3_RESERVED_SUFFIXES.some((p) => name.endsWith(p))) {
    why = 'uses a prefix or suffix reserved by S3';
  }
  if (why !== undefined) throw s3err('InvalidBucketName', `The specified bucket is not valid: a bucket name ${why}.`, { BucketName: name });
}

/** S3 object key limits: 1..1024 bytes of UTF-8. NUL is refused: no file system can store it. */
export function validateObjectKey(key: string): void {
  if (key === '') throw s3err('InvalidArgument', 'Object key must not be empty.');
  // Cheap bound first: a UTF-8 byte count is at most 3 per UTF-16 unit.
  if (key.length > 341 && Buffer.byteLength(key, 'utf8') > 1024) {
    throw s3err('KeyTooLongError', 'Your key is too long: the maximum is 1024 bytes of UTF-8.', { Size: String(Buffer.byteLength(key, 'utf8')), MaxSizeAllowed: '1024' });
  }
  if (key.includes('\u0000')) throw s3err('InvalidArgument', 'Object key must not contain a NUL character.');
}
