// S3 errors: one class carrying the S3 code and HTTP status, one table of codes. Handlers throw
// S3Error anywhere; the edge turns it into the XML body with errorXml (DESIGN.md: errors are typed
// and mapped once at the edge).

import { XML_DECL, escapeXml } from './xml';

interface S3ErrorSpec {
  readonly status: number;
  readonly message: string;
}

// Status and default message per code, worded after the S3 API reference ("Error responses").
// Codes starting with XTais are ours: conditions S3 itself never has.
export const S3_ERRORS = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header you provided is invalid.' },
  BadDigest: { status: 400, message: 'The Content-MD5 or checksum value you specified did not match what we received.' },
  BucketAlreadyExists: {
    status: 409,
    message: 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: { status: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  IncompleteBody: { status: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS access key ID you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidPart: {
    status: 400,
    message: "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.",
  },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable.' },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order. Parts must be ordered by part number.' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
  InvalidToken: { status: 400, message: 'The provided token is malformed or otherwise invalid.' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: 'Your key is too long.' },
  MalformedXML: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist.' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchUpload: {
    status: 404,
    message: 'The specified upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.',
  },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist.' },
  NoSuchVersion: { status: 404, message: 'The version ID specified in the request does not match an existing version.' },
  NotImplemented: { status: 501, message: 'A header or query you provided implies functionality that is not implemented.' },
  NotModified: { status: 304, message: 'Not Modified' },
  PreconditionFailed: { status: 412, message: 'At least one of the preconditions you specified did not hold.' },
  RequestHeaderSectionTooLarge: { status: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  RequestTimeTooSkewed: { status: 403, message: 'The difference between the request time and the server time is too large.' },
  ServiceUnavailable: { status: 503, message: 'Service is unable to handle the request. Please retry.' },
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  UnexpectedContent: { status: 400, message: 'This request does not support content.' },
  XAmzContentSHA256Mismatch: { status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
  // Objects live as files under their names, so "a" (a file) and "a/b" (needs "a" as a directory)
  // cannot both exist; S3 allows it, we must refuse it clearly rather than fail with EEXIST/ENOTDIR.
  XTaisObjectNameConflict: {
    status: 409,
    message: "The object name conflicts with an existing object: an object and a 'directory' of the same name (e.g. 'a' and 'a/b') cannot both exist in this store.",
  },
} as const satisfies Record<string, S3ErrorSpec>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  // Path of the bucket or object the request named; filled in by the edge when the thrower did not.
  resource: string | undefined;
  // Additional child elements of <Error>, in insertion order (BucketName, Key, RangeRequested, ...).
  readonly extra: Record<string, string> | undefined;

  constructor(code: S3ErrorCode, message?: string, extra?: Record<string, string>, resource?: string) {
    const spec: S3ErrorSpec = S3_ERRORS[code];
    super(message ?? spec.message);
    this.name = 'S3Error';
    this.code = code;
    this.status = spec.status;
    this.extra = extra;
    this.resource = resource;
  }
}

export function s3err(code: S3ErrorCode, message?: string, extra?: Record<string, string>): S3Error {
  return new S3Error(code, message, extra);
}

// Helpers for the errors whose S3 body carries specific extra elements.
export function noSuchBucket(bucket: string): S3Error {
  return new S3Error('NoSuchBucket', undefined, { BucketName: bucket }, '/' + bucket);
}

export function noSuchKey(bucket: string, key: string): S3Error {
  return new S3Error('NoSuchKey', undefined, { Key: key }, '/' + bucket + '/' + key);
}

export function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
}

export function invalidRange(rangeHeader: string, size: number): S3Error {
  return new S3Error('InvalidRange', undefined, { RangeRequested: rangeHeader, ActualObjectSize: String(size) });
}

export function methodNotAllowed(method: string, resourceType: 'SERVICE' | 'BUCKET' | 'OBJECT'): S3Error {
  return new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: resourceType });
}

export function notImplemented(what: string): S3Error {
  return new S3Error('NotImplemented', `${what} is not implemented.`);
}

export function errorXml(err: S3Error, requestId: string): string {
  let s = XML_DECL + '<Error><Code>' + err.code + '</Code><Message>' + escapeXml(err.message) + '</Message>';
  s += '<Resource>' + escapeXml(err.resource ?? '') + '</Resource>';
  s += '<RequestId>' + escapeXml(requestId) + '</RequestId>';
  if (err.extra !== undefined) {
    for (const name of Object.keys(err.extra)) {
      // Element names come from our own code, but a bad one would break the whole body: guard.
      if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) continue;
      s += '<' + name + '>' + escapeXml(err.extra[name] ?? '') + '</' + name + '>';
    }
  }
  return s + '</Error>';
}
