// routeS3: (method, path, query, headers) → S3Op, a pure function (STYLE.md, Garage's router.rs).
// Path-style only: "/" is the service, "/bucket[/]" a bucket, "/bucket/key..." an object.

import { methodNotAllowed, s3err, S3Error } from './errors';
import { validateBucketName, validateObjectKey } from './names';
import type { CopySource, ResponseOverrides, S3Op, UnsupportedOp } from './ops';
import { parseQuery, percentDecode } from './uri';

export type * from './ops';

/** Header lookup: lower-case name → value, '' when absent. */
export type HeaderGetter = (name: string) => string;

type Query = Map<string, string>;

// Sub-resources we recognise but do not implement → [the S3 operation's noun, methods allowed: G(ET)
// P(UT) D(ELETE)]. The op name is the method's verb plus the noun, e.g. GET ?cors → GetBucketCors.
const BUCKET_FEATURES = new Map<string, readonly [string, string]>([
  ['acl', ['BucketAcl', 'GP']],
  ['accelerate', ['BucketAccelerateConfiguration', 'GP']],
  ['analytics', ['BucketAnalyticsConfiguration', 'GPD']],
  ['cors', ['BucketCors', 'GPD']],
  ['encryption', ['BucketEncryption', 'GPD']],
  ['intelligent-tiering', ['BucketIntelligentTieringConfiguration', 'GPD']],
  ['inventory', ['BucketInventoryConfiguration', 'GPD']],
  ['lifecycle', ['BucketLifecycleConfiguration', 'GPD']],
  ['logging', ['BucketLogging', 'GP']],
  ['metadataTable', ['BucketMetadataTableConfiguration', 'GPD']],
  ['metrics', ['BucketMetricsConfiguration', 'GPD']],
  ['notification', ['BucketNotificationConfiguration', 'GP']],
  ['object-lock', ['ObjectLockConfiguration', 'GP']],
  ['ownershipControls', ['BucketOwnershipControls', 'GPD']],
  ['policy', ['BucketPolicy', 'GPD']],
  ['policyStatus', ['BucketPolicyStatus', 'G']],
  ['publicAccessBlock', ['PublicAccessBlock', 'GPD']],
  ['replication', ['BucketReplication', 'GPD']],
  ['requestPayment', ['BucketRequestPayment', 'GP']],
  ['tagging', ['BucketTagging', 'GPD']],
  ['website', ['BucketWebsite', 'GPD']],
]);

// Bucket sub-resources with a meaning of their own below (implemented, or special-cased).
const BUCKET_SUBRESOURCES = new Set(['location', 'versioning', 'uploads', 'delete', 'versions', 'session', ...BUCKET_FEATURES.keys()]);

const OBJECT_FEATURES = new Map<string, readonly [string, string]>([
  ['acl', ['ObjectAcl', 'GP']],
  ['retention', ['ObjectRetention', 'GP']],
  ['legal-hold', ['ObjectLegalHold', 'GP']],
  ['torrent', ['ObjectTorrent', 'G']],
  ['attributes', ['ObjectAttributes', 'G']],
]);

// Object sub-resources with a meaning of their own (implemented) or not implemented.
const OBJECT_SUBRESOURCES = new Set(['tagging', ...OBJECT_FEATURES.keys()]);

// POST-only object sub-resources we do not implement.
const OBJECT_POST_FEATURES = new Map<string, string>([
  ['restore', 'RestoreObject'],
  ['select', 'SelectObjectContent'],
]);

const VERBS: Readonly<Record<string, string>> = { GET: 'Get', PUT: 'Put', DELETE: 'Delete' };
const METHOD_LETTER: Readonly<Record<string, string>> = { GET: 'G', PUT: 'P', DELETE: 'D' };

/**
 * Turns a request into an S3Op or throws S3Error (400 InvalidURI/InvalidArgument/InvalidBucketName/
 * KeyTooLongError, 405 MethodNotAllowed).
 * @param method upper-case HTTP method
 * @param path   the path after the "/s3" prefix (or the whole path with S3-API-via-Root), still
 *               percent-encoded as received; bucket and key are decoded here, never normalised
 * @param query  raw query string, without '?'
 * @param headers lower-case name → value ('' when absent)
 */
export function routeS3(method: string, path: string, query: string, headers: HeaderGetter): S3Op {
  if (path === '') path = '/';
  if (path.charCodeAt(0) !== 0x2f) throw s3err('InvalidURI', "Couldn't parse the specified URI: the path must start with '/'.");
  const q = parseQuery(query);
  const rest = path.slice(1);
  if (rest === '') return routeService(method, q);

  // Split before decoding: an encoded '/' (%2F) belongs to the key, not to the path structure.
  const slash = rest.indexOf('/');
  const bucket = percentDecode(slash < 0 ? rest : rest.slice(0, slash), false);
  if (slash < 0 || slash === rest.length - 1) return routeBucket(method, bucket, q);
  // The key is everything after the bucket's slash, verbatim: "a//b", "./x", "dir/" stay as they are.
  const key = percentDecode(rest.slice(slash + 1), false);
  validateBucketName(bucket, 'access');
  validateObjectKey(key);
  return routeObject(method, bucket, key, q, headers);
}

function routeService(method: string, q: Query): S3Op {
  if (method !== 'GET') throw methodNotAllowed(method, 'SERVICE');
  const mb = q.get('max-buckets');
  return {
    kind: 'ListBuckets',
    prefix: q.get('prefix') ?? '',
    continuationToken: q.get('continuation-token') ?? '',
    maxBuckets: mb === undefined ? undefined : parseCount(q, 'max-buckets', 10000, 10000, 1),
  };
}

function routeBucket(method: string, bucket: string, q: Query): S3Op {
  const sub = firstOf(q, BUCKET_SUBRESOURCES);
  // Strict S3 naming only where a bucket is born; existing AIStore buckets may have looser names.
  validateBucketName(bucket, method === 'PUT' && sub === undefined ? 'create' : 'access');
  if (method === 'HEAD') return { kind: 'HeadBucket', bucket };
  const notAllowed = (): S3Error => methodNotAllowed(method, 'BUCKET');

  if (sub !== undefined) {
    const feature = BUCKET_FEATURES.get(sub);
    if (feature !== undefined) return unsupported(method, bucket, undefined, feature, notAllowed);
    switch (sub) {
      case 'location':
        if (method === 'GET') return { kind: 'GetBucketLocation', bucket };
        throw notAllowed();
      case 'versioning':
        if (method === 'GET') return { kind: 'GetBucketVersioning', bucket };
        if (method === 'PUT') return { kind: 'PutBucketVersioning', bucket };
        throw notAllowed();
      case 'uploads':
        if (method === 'GET') return listMultipartUploads(bucket, q);
        throw notAllowed();
      case 'delete':
        // S3 documents POST only; AIStore also accepts DELETE (aistore-facts.md §b).
        if (method === 'POST' || method === 'DELETE') return { kind: 'DeleteObjects', bucket };
        throw notAllowed();
      case 'versions':
        if (method === 'GET') return { kind: 'Unsupported', bucket, key: undefined, what: 'ListObjectVersions' };
        throw notAllowed();
      case 'session':
        if (method === 'GET') return { kind: 'Unsupported', bucket, key: undefined, what: 'CreateSession' };
        throw notAllowed();
    }
  }

  switch (method) {
    case 'GET':
      return listObjects(bucket, q);
    case 'PUT':
      return { kind: 'CreateBucket', bucket };
    case 'DELETE':
      return { kind: 'DeleteBucket', bucket };
    case 'POST':
      // A POST to the bucket without ?delete is a browser form upload (PostObject).
      return { kind: 'Unsupported', bucket, key: undefined, what: 'PostObject' };
    default:
      throw notAllowed();
  }
}

function routeObject(method: string, bucket: string, key: string, q: Query, headers: HeaderGetter): S3Op {
  const notAllowed = (): S3Error => methodNotAllowed(method, 'OBJECT');
  if (method === 'HEAD') {
    return { kind: 'HeadObject', bucket, key, partNumber: optionalPartNumber(q), versionId: q.get('versionId') };
  }
  const sub = firstOf(q, OBJECT_SUBRESOURCES);
  if (sub === 'tagging') {
    const kind = method === 'GET' ? 'GetObjectTagging' : method === 'PUT' ? 'PutObjectTagging' : method === 'DELETE' ? 'DeleteObjectTagging' : undefined;
    if (kind === undefined) throw notAllowed();
    return { kind, bucket, key, versionId: q.get('versionId') };
  }
  const feature = OBJECT_FEATURES.get(sub ?? '');
  if (feature !== undefined) return unsupported(method, bucket, key, feature, notAllowed);

  switch (method) {
    case 'GET': {
      const uploadId = q.get('uploadId');
      if (uploadId !== undefined) {
        return {
          kind: 'ListParts',
          bucket,
          key,
          uploadId,
          maxParts: parseCount(q, 'max-parts', 1000, 1000),
          partNumberMarker: parseCount(q, 'part-number-marker', 0, 10000),
        };
      }
      if (q.has('uploads')) throw notAllowed();
      return {
        kind: 'GetObject',
        bucket,
        key,
        partNumber: optionalPartNumber(q),
        versionId: q.get('versionId'),
        responseOverrides: responseOverrides(q),
      };
    }

    case 'PUT': {
      if (q.has('uploads')) throw notAllowed();
      const copyHeader = headers('x-amz-copy-source');
      if (q.has('uploadId') || q.has('partNumber')) {
        const uploadId = q.get('uploadId');
        if (uploadId === undefined) throw invalidArgument('uploadId', '', 'A part upload needs both partNumber and uploadId.');
        const partNumber = optionalPartNumber(q);
        if (partNumber === undefined) throw invalidArgument('partNumber', '', 'A part upload needs both partNumber and uploadId.');
        if (copyHeader === '') return { kind: 'UploadPart', bucket, key, partNumber, uploadId };
        return {
          kind: 'UploadPartCopy',
          bucket,
          key,
          partNumber,
          uploadId,
          copySource: parseCopySource(copyHeader),
          copySourceRange: parseCopySourceRange(headers('x-amz-copy-source-range')),
        };
      }
      if (copyHeader !== '') return { kind: 'CopyObject', bucket, key, copySource: parseCopySource(copyHeader) };
      return { kind: 'PutObject', bucket, key };
    }

    case 'POST': {
      if (q.has('uploads')) return { kind: 'CreateMultipartUpload', bucket, key };
      const uploadId = q.get('uploadId');
      if (uploadId !== undefined) return { kind: 'CompleteMultipartUpload', bucket, key, uploadId };
      const what = OBJECT_POST_FEATURES.get(firstOf(q, OBJECT_POST_FEATURES) ?? '');
      if (what !== undefined) return { kind: 'Unsupported', bucket, key, what };
      throw notAllowed();
    }

    case 'DELETE': {
      const uploadId = q.get('uploadId');
      if (uploadId !== undefined) return { kind: 'AbortMultipartUpload', bucket, key, uploadId };
      return { kind: 'DeleteObject', bucket, key, versionId: q.get('versionId') };
    }

    default:
      throw notAllowed();
  }
}

/** The first query parameter (in request order) that is in `names`. */
function firstOf(q: Query, names: { has(name: string): boolean }): string | undefined {
  for (const name of q.keys()) if (names.has(name)) return name;
  return undefined;
}

function unsupported(
  method: string,
  bucket: string,
  key: string | undefined,
  [noun, methods]: readonly [string, string],
  notAllowed: () => S3Error,
): UnsupportedOp {
  const letter = METHOD_LETTER[method];
  if (letter === undefined || !methods.includes(letter)) throw notAllowed();
  return { kind: 'Unsupported', bucket, key, what: VERBS[method] + noun };
}

function listObjects(bucket: string, q: Query): S3Op {
  const common = {
    bucket,
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    maxKeys: parseCount(q, 'max-keys', 1000, 1000),
    encodingType: encodingType(q),
  };
  const listType = q.get('list-type');
  if (listType === undefined) return { kind: 'ListObjects', ...common, marker: q.get('marker') ?? '' };
  if (listType !== '2') throw invalidArgument('list-type', listType, 'Invalid list type: the only valid value is 2.');
  return {
    kind: 'ListObjectsV2',
    ...common,
    continuationToken: q.get('continuation-token') ?? '',
    startAfter: q.get('start-after') ?? '',
    fetchOwner: (q.get('fetch-owner') ?? '').toLowerCase() === 'true',
  };
}

function listMultipartUploads(bucket: string, q: Query): S3Op {
  return {
    kind: 'ListMultipartUploads',
    bucket,
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    keyMarker: q.get('key-marker') ?? '',
    uploadIdMarker: q.get('upload-id-marker') ?? '',
    maxUploads: parseCount(q, 'max-uploads', 1000, 1000),
    encodingType: encodingType(q),
  };
}

function encodingType(q: Query): 'url' | undefined {
  const v = q.get('encoding-type');
  if (v === undefined) return undefined;
  if (v.toLowerCase() === 'url') return 'url';
  throw invalidArgument('encoding-type', v, 'Invalid Encoding Method specified in Request');
}

// Decimal digits only (no sign, no fraction, no exponent), within a signed 32-bit int as S3 says.
const COUNT = /^\d{1,10}$/;

/** A non-negative integer parameter: absent → dflt, larger than max → max, anything else → 400. */
function parseCount(q: Query, name: string, dflt: number, max: number, min = 0): number {
  const v = q.get(name);
  if (v === undefined) return dflt;
  const n = COUNT.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= 2147483647)) {
    throw invalidArgument(name, v, `Provided ${name} not an integer or within integer range`);
  }
  return Math.min(n, max);
}

function optionalPartNumber(q: Query): number | undefined {
  const v = q.get('partNumber');
  if (v === undefined) return undefined;
  const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 10000)) throw invalidArgument('partNumber', v, 'Part number must be an integer between 1 and 10000, inclusive');
  return n;
}

function responseOverrides(q: Query): ResponseOverrides {
  const o: ResponseOverrides = {};
  // Fast exit: almost no GET carries overrides.
  if (q.size === 0) return o;
  const set = (param: string, field: keyof ResponseOverrides): void => {
    const v = q.get(param);
    if (v !== undefined) o[field] = v;
  };
  set('response-content-type', 'contentType');
  set('response-content-language', 'contentLanguage');
  set('response-expires', 'expires');
  set('response-cache-control', 'cacheControl');
  set('response-content-disposition', 'contentDisposition');
  set('response-content-encoding', 'contentEncoding');
  return o;
}

/**
 * x-amz-copy-source: "[/]bucket/key[?versionId=id]", percent-encoded (a '?' inside the key arrives as
 * %3F, so the first raw '?' starts the version). '+' is a literal plus, as in paths: SDKs send %2B.
 */
export function parseCopySource(header: string): CopySource {
  const qm = header.indexOf('?');
  let path = qm < 0 ? header : header.slice(0, qm);
  const versionId = qm < 0 ? undefined : parseQuery(header.slice(qm + 1)).get('versionId');
  // Decoded before it is split: clients that encode the whole "bucket/key" (encodeURIComponent) send the
  // separator as %2F, which S3 accepts; a bucket name never holds '/' or '%', so nothing else changes.
  try {
    path = percentDecode(path, false);
  } catch {
    throw invalidArgument('x-amz-copy-source', header, 'Invalid copy source encoding');
  }
  if (path.charCodeAt(0) === 0x2f) path = path.slice(1);
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw s3err('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: header,
    });
  }
  const bucket = path.slice(0, slash);
  const key = path.slice(slash + 1);
  validateBucketName(bucket, 'access');
  validateObjectKey(key);
  return { bucket, key, versionId };
}

const COPY_RANGE = /^bytes=(\d+)-(\d+)$/;

function parseCopySourceRange(header: string): { start: number; end: number } | undefined {
  if (header === '') return undefined;
  const m = COPY_RANGE.exec(header.trim());
  const start = m === null ? NaN : Number(m[1]);
  const end = m === null ? NaN : Number(m[2]);
  if (!(start <= end)) {
    throw invalidArgument(
      'x-amz-copy-source-range',
      header,
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
    );
  }
  return { start, end };
}

function invalidArgument(name: string, value: string, message: string): S3Error {
  return s3err('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
}
