import test from 'ava';
import type { ExecutionContext } from 'ava';

import { S3Error, type S3ErrorCode } from '../src/s3/errors';
import { validateBucketName, validateObjectKey } from '../src/s3/names';
import { parseCopySource, routeS3, type S3Op } from '../src/s3/router';
import { parseQuery, percentDecode } from '../src/s3/uri';

function route(method: string, path: string, query = '', headers: Record<string, string> = {}): S3Op {
  return routeS3(method, path, query, (name) => headers[name] ?? '');
}

function rejects(t: ExecutionContext, fn: () => unknown, code: S3ErrorCode, status?: number): S3Error {
  const err = t.throws(fn, { instanceOf: S3Error }) as S3Error;
  t.is(err.code, code);
  if (status !== undefined) t.is(err.status, status);
  return err;
}

// ---- service

test('GET / and empty path are ListBuckets', (t) => {
  t.deepEqual(route('GET', '/'), { kind: 'ListBuckets', prefix: '', continuationToken: '', maxBuckets: undefined });
  t.is(route('GET', '').kind, 'ListBuckets');
  t.deepEqual(route('GET', '/', 'max-buckets=10&prefix=ab&continuation-token=tok'), {
    kind: 'ListBuckets', prefix: 'ab', continuationToken: 'tok', maxBuckets: 10,
  });
});

test('service rejects other methods with MethodNotAllowed 405', (t) => {
  for (const m of ['PUT', 'POST', 'DELETE', 'HEAD', 'PATCH']) {
    const err = rejects(t, () => route(m, '/'), 'MethodNotAllowed', 405);
    t.deepEqual(err.extra, { Method: m, ResourceType: 'SERVICE' });
  }
});

test('max-buckets out of range is InvalidArgument', (t) => {
  rejects(t, () => route('GET', '/', 'max-buckets=0'), 'InvalidArgument');
  rejects(t, () => route('GET', '/', 'max-buckets=x'), 'InvalidArgument');
  t.like(route('GET', '/', 'max-buckets=99999'), { maxBuckets: 10000 });
});

test('path must start with a slash', (t) => {
  rejects(t, () => route('GET', 'bucket'), 'InvalidURI', 400);
});

// ---- bucket operations

test('bucket CRUD', (t) => {
  t.deepEqual(route('PUT', '/bkt'), { kind: 'CreateBucket', bucket: 'bkt' });
  t.deepEqual(route('PUT', '/bkt/'), { kind: 'CreateBucket', bucket: 'bkt' });
  t.deepEqual(route('DELETE', '/bkt'), { kind: 'DeleteBucket', bucket: 'bkt' });
  t.deepEqual(route('HEAD', '/bkt'), { kind: 'HeadBucket', bucket: 'bkt' });
  t.deepEqual(route('HEAD', '/bkt', 'acl'), { kind: 'HeadBucket', bucket: 'bkt' });
});

test('location and versioning', (t) => {
  t.deepEqual(route('GET', '/bkt', 'location'), { kind: 'GetBucketLocation', bucket: 'bkt' });
  t.deepEqual(route('GET', '/bkt/', 'location='), { kind: 'GetBucketLocation', bucket: 'bkt' });
  t.deepEqual(route('GET', '/bkt', 'versioning'), { kind: 'GetBucketVersioning', bucket: 'bkt' });
  t.deepEqual(route('PUT', '/bkt', 'versioning'), { kind: 'PutBucketVersioning', bucket: 'bkt' });
  rejects(t, () => route('POST', '/bkt', 'location'), 'MethodNotAllowed');
  rejects(t, () => route('DELETE', '/bkt', 'versioning'), 'MethodNotAllowed');
});

test('GET ?location never falls through to ListObjects (AIStore bug)', (t) => {
  t.is(route('GET', '/bkt', 'location').kind, 'GetBucketLocation');
  t.is(route('GET', '/bkt', 'x-id=GetBucketLocation&location').kind, 'GetBucketLocation');
});

test('ListObjects v1 defaults', (t) => {
  t.deepEqual(route('GET', '/bkt'), {
    kind: 'ListObjects', bucket: 'bkt', prefix: '', delimiter: '', marker: '', maxKeys: 1000, encodingType: undefined,
  });
});

test('ListObjects v1 with every parameter', (t) => {
  t.deepEqual(route('GET', '/bkt', 'prefix=photos%2F2006%2F&delimiter=%2F&marker=photos%2Fa&max-keys=50&encoding-type=url'), {
    kind: 'ListObjects', bucket: 'bkt', prefix: 'photos/2006/', delimiter: '/', marker: 'photos/a', maxKeys: 50, encodingType: 'url',
  });
});

test('ListObjectsV2 as boto3 sends it', (t) => {
  t.deepEqual(route('GET', '/bkt', 'list-type=2&max-keys=7&encoding-type=url&prefix=a%20b%2B'), {
    kind: 'ListObjectsV2', bucket: 'bkt', prefix: 'a b+', delimiter: '', maxKeys: 7, encodingType: 'url',
    continuationToken: '', startAfter: '', fetchOwner: false,
  });
  t.like(route('GET', '/bkt', 'list-type=2&continuation-token=abc%3D&start-after=k%C3%A9&fetch-owner=true&delimiter=%2F'), {
    kind: 'ListObjectsV2', continuationToken: 'abc=', startAfter: 'ké', fetchOwner: true, delimiter: '/',
  });
  t.like(route('GET', '/bkt', 'list-type=2&fetch-owner=false'), { fetchOwner: false });
});

test('list-type other than 2 is InvalidArgument', (t) => {
  rejects(t, () => route('GET', '/bkt', 'list-type=1'), 'InvalidArgument');
  rejects(t, () => route('GET', '/bkt', 'list-type=3'), 'InvalidArgument');
});

test('max-keys edge cases', (t) => {
  t.like(route('GET', '/bkt', 'max-keys=0'), { maxKeys: 0 });
  t.like(route('GET', '/bkt', 'max-keys=1'), { maxKeys: 1 });
  t.like(route('GET', '/bkt', 'max-keys=1000'), { maxKeys: 1000 });
  t.like(route('GET', '/bkt', 'max-keys=1001'), { maxKeys: 1000 });
  t.like(route('GET', '/bkt', 'max-keys=2147483647'), { maxKeys: 1000 });
  t.like(route('GET', '/bkt', 'max-keys=007'), { maxKeys: 7 });
  for (const bad of ['-1', '1.5', 'abc', '', '1e3', '+5', '0x10', '2147483648', '99999999999999999999', '%201']) {
    const err = rejects(t, () => route('GET', '/bkt', 'max-keys=' + bad), 'InvalidArgument', 400);
    t.is(err.extra?.ArgumentName, 'max-keys');
  }
});

test('encoding-type accepts url only', (t) => {
  t.like(route('GET', '/bkt', 'encoding-type=URL'), { encodingType: 'url' });
  rejects(t, () => route('GET', '/bkt', 'encoding-type=base64'), 'InvalidArgument');
});

test('ListMultipartUploads', (t) => {
  t.deepEqual(route('GET', '/bkt', 'uploads&prefix=p&delimiter=%2F&key-marker=k&upload-id-marker=u&max-uploads=5000&encoding-type=url'), {
    kind: 'ListMultipartUploads', bucket: 'bkt', prefix: 'p', delimiter: '/', keyMarker: 'k', uploadIdMarker: 'u', maxUploads: 1000, encodingType: 'url',
  });
  rejects(t, () => route('PUT', '/bkt', 'uploads'), 'MethodNotAllowed');
});

test('DeleteObjects: POST ?delete, and DELETE ?delete as AIStore accepts', (t) => {
  t.deepEqual(route('POST', '/bkt', 'delete'), { kind: 'DeleteObjects', bucket: 'bkt' });
  t.deepEqual(route('POST', '/bkt/', 'delete='), { kind: 'DeleteObjects', bucket: 'bkt' });
  t.deepEqual(route('DELETE', '/bkt', 'delete'), { kind: 'DeleteObjects', bucket: 'bkt' });
  rejects(t, () => route('GET', '/bkt', 'delete'), 'MethodNotAllowed');
});

test('unsupported bucket sub-resources become Unsupported, never ListObjects', (t) => {
  const cases: Array<[string, string, string]> = [
    ['GET', 'cors', 'GetBucketCors'],
    ['PUT', 'cors', 'PutBucketCors'],
    ['DELETE', 'cors', 'DeleteBucketCors'],
    ['GET', 'policy', 'GetBucketPolicy'],
    ['PUT', 'policy', 'PutBucketPolicy'],
    ['GET', 'lifecycle', 'GetBucketLifecycleConfiguration'],
    ['GET', 'website', 'GetBucketWebsite'],
    ['GET', 'tagging', 'GetBucketTagging'],
    ['PUT', 'tagging', 'PutBucketTagging'],
    ['GET', 'acl', 'GetBucketAcl'],
    ['PUT', 'acl', 'PutBucketAcl'],
    ['GET', 'encryption', 'GetBucketEncryption'],
    ['GET', 'object-lock', 'GetObjectLockConfiguration'],
    ['GET', 'policyStatus', 'GetBucketPolicyStatus'],
    ['GET', 'versions', 'ListObjectVersions'],
    ['GET', 'logging', 'GetBucketLogging'],
    ['GET', 'notification', 'GetBucketNotificationConfiguration'],
    ['GET', 'replication', 'GetBucketReplication'],
    ['GET', 'requestPayment', 'GetBucketRequestPayment'],
    ['GET', 'publicAccessBlock', 'GetPublicAccessBlock'],
    ['GET', 'ownershipControls', 'GetBucketOwnershipControls'],
  ];
  for (const [method, sub, what] of cases) {
    t.deepEqual(route(method, '/bkt', sub), { kind: 'Unsupported', bucket: 'bkt', key: undefined, what }, `${method} ?${sub}`);
  }
  // Sub-resource among ordinary parameters, and with a value.
  t.like(route('GET', '/bkt', 'prefix=a&cors='), { kind: 'Unsupported', what: 'GetBucketCors' });
  // PUT ?cors must not create a bucket (and must not apply the strict CreateBucket name rules).
  t.like(route('PUT', '/My_Bucket', 'cors'), { kind: 'Unsupported', what: 'PutBucketCors' });
});

test('sub-resources with a method S3 does not define are MethodNotAllowed', (t) => {
  rejects(t, () => route('DELETE', '/bkt', 'acl'), 'MethodNotAllowed');
  rejects(t, () => route('POST', '/bkt', 'cors'), 'MethodNotAllowed');
  rejects(t, () => route('PUT', '/bkt', 'policyStatus'), 'MethodNotAllowed');
  rejects(t, () => route('PUT', '/bkt', 'versions'), 'MethodNotAllowed');
});

test('POST to a bucket without ?delete is the unsupported browser PostObject', (t) => {
  t.deepEqual(route('POST', '/bkt'), { kind: 'Unsupported', bucket: 'bkt', key: undefined, what: 'PostObject' });
});

test('unknown bucket methods are MethodNotAllowed', (t) => {
  const err = rejects(t, () => route('PATCH', '/bkt'), 'MethodNotAllowed', 405);
  t.is(err.extra?.ResourceType, 'BUCKET');
  rejects(t, () => route('OPTIONS', '/bkt'), 'MethodNotAllowed');
});

test('ordinary unknown parameters are ignored (x-id, presigned query auth)', (t) => {
  t.is(route('GET', '/bkt', 'x-id=ListObjects').kind, 'ListObjects');
  t.is(route('GET', '/bkt/k', 'x-id=GetObject&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab').kind, 'GetObject');
  t.is(route('PUT', '/bkt/k', 'x-id=PutObject').kind, 'PutObject');
});

// ---- bucket names

test('CreateBucket applies strict S3 naming', (t) => {
  for (const bad of ['ab', 'a'.repeat(64), 'My-Bucket', 'my_bucket', '-abc', 'abc-', '.abc', 'abc.', 'a..b', '192.168.5.4', 'xn--abc', 'sthree-x', 'abc-s3alias', 'abc--ol-s3', 'abc.mrap', 'abc--x-s3']) {
    rejects(t, () => route('PUT', '/' + encodeURIComponent(bad)), 'InvalidBucketName', 400);
  }
  for (const good of ['abc', 'a'.repeat(63), 'my-bucket.1', '1abc', 'a.b-c', '192.168.5.4x', 'amzn-s3-demo-bucket']) {
    t.like(route('PUT', '/' + good), { kind: 'CreateBucket', bucket: good });
  }
});

test('other bucket operations accept AIStore names', (t) => {
  t.like(route('GET', '/My_Bucket'), { kind: 'ListObjects', bucket: 'My_Bucket' });
  t.like(route('HEAD', '/a'), { kind: 'HeadBucket', bucket: 'a' });
  t.like(route('GET', '/B_1/key'), { kind: 'GetObject', bucket: 'B_1' });
  t.like(route('DELETE', '/' + 'x'.repeat(64)), { kind: 'DeleteBucket' });
  rejects(t, () => route('GET', '/' + 'x'.repeat(65)), 'InvalidBucketName');
  rejects(t, () => route('GET', '/a..b'), 'InvalidBucketName');
  rejects(t, () => route('GET', '/a%20b'), 'InvalidBucketName');
  rejects(t, () => route('GET', '/a%2Fb'), 'InvalidBucketName');
  rejects(t, () => route('GET', '//key'), 'InvalidBucketName');
});

test('validateBucketName exported with both rule sets', (t) => {
  t.notThrows(() => validateBucketName('good-name'));
  t.throws(() => validateBucketName('Bad_Name'), { instanceOf: S3Error });
  t.notThrows(() => validateBucketName('Bad_Name', 'access'));
  const err = t.throws(() => validateBucketName('x'), { instanceOf: S3Error }) as S3Error;
  t.is(err.extra?.BucketName, 'x');
  t.regex(err.message, /3 to 63/);
});

// ---- object operations

test('object CRUD', (t) => {
  t.deepEqual(route('PUT', '/bkt/key'), { kind: 'PutObject', bucket: 'bkt', key: 'key' });
  t.deepEqual(route('GET', '/bkt/key'), {
    kind: 'GetObject', bucket: 'bkt', key: 'key', partNumber: undefined, versionId: undefined, responseOverrides: {},
  });
  t.deepEqual(route('HEAD', '/bkt/key'), { kind: 'HeadObject', bucket: 'bkt', key: 'key', partNumber: undefined, versionId: undefined });
  t.deepEqual(route('DELETE', '/bkt/key'), { kind: 'DeleteObject', bucket: 'bkt', key: 'key', versionId: undefined });
  t.deepEqual(route('DELETE', '/bkt/key', 'versionId=null'), { kind: 'DeleteObject', bucket: 'bkt', key: 'key', versionId: 'null' });
});

test('keys are percent-decoded once and never normalised', (t) => {
  const key = (path: string): string => (route('GET', path) as { key: string }).key;
  t.is(key('/b/a%20b'), 'a b');
  t.is(key('/b/a+b'), 'a+b'); // '+' in a path is a literal plus
  t.is(key('/b/a%2Bb'), 'a+b');
  t.is(key('/b/dir%2Ffile'), 'dir/file');
  t.is(key('/b/dir/file'), 'dir/file');
  t.is(key('/b/a//b'), 'a//b');
  t.is(key('/b//lead'), '/lead');
  t.is(key('/b/./x'), './x');
  t.is(key('/b/../x'), '../x');
  t.is(key('/b/dir/'), 'dir/');
  t.is(key('/b/%25'), '%');
  t.is(key('/b/%2525'), '%25'); // decoded exactly once
  t.is(key('/b/caf%C3%A9'), 'café');
  t.is(key('/b/caf%c3%a9'), 'café'); // lower-case hex
  t.is(key('/b/%E6%97%A5%E6%9C%AC'), '日本');
  t.is(key('/b/%F0%9F%98%80'), '😀');
  t.is(key('/b/%EF%BB%BFbom'), '\ufeffbom'); // a leading BOM is kept
  t.is(key('/b/%3F%23%26%3D'), '?#&=');
  t.is(key('/b/tab%09nl%0A'), 'tab\tnl\n');
  t.is(key('/b/' + 'é'), 'é'); // raw non-ASCII passes through
});

test('bad percent-escapes and non-UTF-8 bytes are InvalidURI 400', (t) => {
  for (const p of ['/b/%', '/b/%2', '/b/%zz', '/b/a%g0', '/b/%C3', '/b/%C3%28', '/b/%FF', '/b/%ED%A0%80', '/b%/k', '/%E0%80%AF/k']) {
    rejects(t, () => route('GET', p), 'InvalidURI', 400);
  }
  rejects(t, () => route('GET', '/b', 'prefix=%'), 'InvalidURI');
  rejects(t, () => route('GET', '/b', 'prefix=%C3'), 'InvalidURI');
});

test('object key validation: NUL and length', (t) => {
  rejects(t, () => route('PUT', '/b/a%00b'), 'InvalidArgument', 400);
  t.like(route('PUT', '/b/' + 'k'.repeat(1024)), { kind: 'PutObject' });
  rejects(t, () => route('PUT', '/b/' + 'k'.repeat(1025)), 'KeyTooLongError', 400);
  // 512 two-byte characters = 1024 bytes (fine), 513 = 1026 bytes (too long).
  t.like(route('PUT', '/b/' + '%C3%A9'.repeat(512)), { kind: 'PutObject' });
  rejects(t, () => route('PUT', '/b/' + '%C3%A9'.repeat(513)), 'KeyTooLongError');
  // 342 three-byte characters = 1026 bytes: the cheap length bound must not skip it.
  rejects(t, () => route('PUT', '/b/' + '%E6%97%A5'.repeat(342)), 'KeyTooLongError');
});

test('validateObjectKey exported', (t) => {
  t.notThrows(() => validateObjectKey('a'));
  t.throws(() => validateObjectKey(''), { instanceOf: S3Error });
  t.throws(() => validateObjectKey('a\u0000'), { instanceOf: S3Error });
  t.throws(() => validateObjectKey('😀'.repeat(257)), { instanceOf: S3Error }); // 1028 bytes
  t.notThrows(() => validateObjectKey('😀'.repeat(256))); // 1024 bytes
});

test('GetObject partNumber, versionId and response overrides', (t) => {
  t.deepEqual(
    route('GET', '/b/k', 'partNumber=3&versionId=v1&response-content-type=text%2Fplain&response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&response-cache-control=no-cache&response-expires=Thu%2C%2001%20Dec%201994%2016%3A00%3A00%20GMT&response-content-language=en&response-content-encoding=gzip'),
    {
      kind: 'GetObject', bucket: 'b', key: 'k', partNumber: 3, versionId: 'v1',
      responseOverrides: {
        contentType: 'text/plain',
        contentDisposition: 'attachment; filename="a b.txt"',
        cacheControl: 'no-cache',
        expires: 'Thu, 01 Dec 1994 16:00:00 GMT',
        contentLanguage: 'en',
        contentEncoding: 'gzip',
      },
    },
  );
  t.like(route('HEAD', '/b/k', 'partNumber=10000'), { kind: 'HeadObject', partNumber: 10000 });
});

test('partNumber must be 1..10000', (t) => {
  for (const bad of ['0', '10001', '-1', '1.0', 'x', '']) {
    rejects(t, () => route('GET', '/b/k', 'partNumber=' + bad), 'InvalidArgument');
    rejects(t, () => route('PUT', '/b/k', 'uploadId=u&partNumber=' + bad), 'InvalidArgument');
  }
});

test('query values: + is a space, %2B a plus', (t) => {
  t.like(route('GET', '/b', 'prefix=a+b'), { prefix: 'a b' });
  t.like(route('GET', '/b', 'prefix=a%2Bb'), { prefix: 'a+b' });
  t.like(route('GET', '/b', 'prefix=a%20b'), { prefix: 'a b' });
});

test('multipart upload operations', (t) => {
  t.deepEqual(route('POST', '/b/k', 'uploads'), { kind: 'CreateMultipartUpload', bucket: 'b', key: 'k' });
  t.deepEqual(route('POST', '/b/k', 'uploads='), { kind: 'CreateMultipartUpload', bucket: 'b', key: 'k' });
  t.deepEqual(route('PUT', '/b/k', 'partNumber=2&uploadId=abc-123'), { kind: 'UploadPart', bucket: 'b', key: 'k', partNumber: 2, uploadId: 'abc-123' });
  t.deepEqual(route('POST', '/b/k', 'uploadId=abc'), { kind: 'CompleteMultipartUpload', bucket: 'b', key: 'k', uploadId: 'abc' });
  t.deepEqual(route('DELETE', '/b/k', 'uploadId=abc'), { kind: 'AbortMultipartUpload', bucket: 'b', key: 'k', uploadId: 'abc' });
  t.deepEqual(route('GET', '/b/k', 'uploadId=abc'), {
    kind: 'ListParts', bucket: 'b', key: 'k', uploadId: 'abc', maxParts: 1000, partNumberMarker: 0,
  });
  t.like(route('GET', '/b/k', 'uploadId=abc&max-parts=2000&part-number-marker=5'), { maxParts: 1000, partNumberMarker: 5 });
  rejects(t, () => route('GET', '/b/k', 'uploadId=abc&max-parts=-1'), 'InvalidArgument');
  rejects(t, () => route('GET', '/b/k', 'uploadId=abc&part-number-marker=x'), 'InvalidArgument');
});

test('a part upload needs both partNumber and uploadId', (t) => {
  rejects(t, () => route('PUT', '/b/k', 'partNumber=1'), 'InvalidArgument');
  rejects(t, () => route('PUT', '/b/k', 'uploadId=u'), 'InvalidArgument');
});

test('CopyObject from x-amz-copy-source', (t) => {
  const copy = (src: string): S3Op => route('PUT', '/dst/new', '', { 'x-amz-copy-source': src });
  t.deepEqual(copy('/src/old'), { kind: 'CopyObject', bucket: 'dst', key: 'new', copySource: { bucket: 'src', key: 'old', versionId: undefined } });
  t.like(copy('src/old'), { copySource: { bucket: 'src', key: 'old' } });
  t.like(copy('src/dir/a%20b%2Bc%3Fd'), { copySource: { bucket: 'src', key: 'dir/a b+c?d' } });
  t.like(copy('src/a+b'), { copySource: { key: 'a+b' } });
  t.like(copy('src/a//b/'), { copySource: { key: 'a//b/' } });
  t.like(copy('/src/k%C3%A9?versionId=3%2F4'), { copySource: { bucket: 'src', key: 'ké', versionId: '3/4' } });
  t.like(copy('My_Src/k'), { copySource: { bucket: 'My_Src' } });
  for (const bad of ['src', '/src', 'src/', '/src/', '/k', '//k']) {
    rejects(t, () => copy(bad), 'InvalidArgument', 400);
  }
  rejects(t, () => copy('src/%zz'), 'InvalidArgument');
  rejects(t, () => copy('a..b/k'), 'InvalidBucketName');
  rejects(t, () => copy('src/' + 'k'.repeat(1025)), 'KeyTooLongError');
});

test('parseCopySource is exported', (t) => {
  t.deepEqual(parseCopySource('b/k?versionId=v'), { bucket: 'b', key: 'k', versionId: 'v' });
});

test('UploadPartCopy with and without a range', (t) => {
  t.deepEqual(route('PUT', '/b/k', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': '/s/o' }), {
    kind: 'UploadPartCopy', bucket: 'b', key: 'k', partNumber: 1, uploadId: 'u',
    copySource: { bucket: 's', key: 'o', versionId: undefined }, copySourceRange: undefined,
  });
  t.like(route('PUT', '/b/k', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': '/s/o', 'x-amz-copy-source-range': 'bytes=0-99' }), {
    kind: 'UploadPartCopy', copySourceRange: { start: 0, end: 99 },
  });
  for (const bad of ['bytes=5-1', 'bytes=0-', 'bytes=-5', '0-5', 'bytes=a-b']) {
    rejects(t, () => route('PUT', '/b/k', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': '/s/o', 'x-amz-copy-source-range': bad }), 'InvalidArgument');
  }
});

test('unsupported object sub-resources', (t) => {
  const cases: Array<[string, string, string]> = [
    ['GET', 'acl', 'GetObjectAcl'],
    ['PUT', 'acl', 'PutObjectAcl'],
    ['GET', 'retention', 'GetObjectRetention'],
    ['PUT', 'legal-hold', 'PutObjectLegalHold'],
    ['GET', 'attributes', 'GetObjectAttributes'],
    ['GET', 'torrent', 'GetObjectTorrent'],
    ['POST', 'restore', 'RestoreObject'],
    ['POST', 'select&select-type=2', 'SelectObjectContent'],
  ];
  for (const [method, sub, what] of cases) {
    t.deepEqual(route(method, '/b/k', sub), { kind: 'Unsupported', bucket: 'b', key: 'k', what }, `${method} ?${sub}`);
  }
  for (const [method, kind] of [['GET', 'GetObjectTagging'], ['PUT', 'PutObjectTagging'], ['DELETE', 'DeleteObjectTagging']] as const) {
    t.deepEqual(route(method, '/b/k', 'tagging'), { kind, bucket: 'b', key: 'k', versionId: undefined }, `${method} ?tagging`);
  }
  t.like(route('GET', '/b/k', 'tagging&versionId=null'), { kind: 'GetObjectTagging', versionId: 'null' });
  rejects(t, () => route('POST', '/b/k', 'tagging'), 'MethodNotAllowed');
  // A tagging PUT with a copy-source header is still PutObjectTagging, not a copy.
  t.like(route('PUT', '/b/k', 'tagging', { 'x-amz-copy-source': 's/o' }), { kind: 'PutObjectTagging' });
  rejects(t, () => route('DELETE', '/b/k', 'acl'), 'MethodNotAllowed');
  rejects(t, () => route('POST', '/b/k', 'acl'), 'MethodNotAllowed');
});

test('wrong methods on objects are MethodNotAllowed', (t) => {
  const err = rejects(t, () => route('POST', '/b/k'), 'MethodNotAllowed', 405);
  t.deepEqual(err.extra, { Method: 'POST', ResourceType: 'OBJECT' });
  rejects(t, () => route('PATCH', '/b/k'), 'MethodNotAllowed');
  rejects(t, () => route('OPTIONS', '/b/k'), 'MethodNotAllowed');
  rejects(t, () => route('GET', '/b/k', 'uploads'), 'MethodNotAllowed');
  rejects(t, () => route('PUT', '/b/k', 'uploads'), 'MethodNotAllowed');
});

test('every op kind is reachable', (t) => {
  const kinds = new Set<string>();
  const all: Array<[string, string, string, Record<string, string>?]> = [
    ['GET', '/', ''], ['PUT', '/bkt', ''], ['DELETE', '/b', ''], ['HEAD', '/b', ''],
    ['GET', '/b', 'location'], ['GET', '/b', 'versioning'], ['PUT', '/b', 'versioning'],
    ['GET', '/b', ''], ['GET', '/b', 'list-type=2'], ['GET', '/b', 'uploads'], ['POST', '/b', 'delete'],
    ['PUT', '/b/k', ''], ['PUT', '/b/k', '', { 'x-amz-copy-source': 's/k' }], ['GET', '/b/k', ''], ['HEAD', '/b/k', ''],
    ['DELETE', '/b/k', ''], ['POST', '/b/k', 'uploads'], ['PUT', '/b/k', 'partNumber=1&uploadId=u'],
    ['PUT', '/b/k', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': 's/k' }], ['POST', '/b/k', 'uploadId=u'],
    ['DELETE', '/b/k', 'uploadId=u'], ['GET', '/b/k', 'uploadId=u'], ['GET', '/b', 'cors'],
  ];
  for (const [m, p, q, h] of all) kinds.add(route(m, p, q, h).kind);
  t.is(kinds.size, 23);
});

// ---- query parsing helpers

test('parseQuery: flags, first value wins, encoded names', (t) => {
  const q = parseQuery('uploads&prefix=a&prefix=b&&x%2Dy=1&empty=');
  t.is(q.get('uploads'), '');
  t.is(q.get('prefix'), 'a');
  t.is(q.get('x-y'), '1');
  t.is(q.get('empty'), '');
  t.is(q.size, 4);
  t.is(parseQuery('').size, 0);
  t.is(parseQuery('a=b=c').get('a'), 'b=c');
});

test('percentDecode: fast paths return the input', (t) => {
  t.is(percentDecode('plain', false), 'plain');
  t.is(percentDecode('a+b', false), 'a+b');
  t.is(percentDecode('a+b', true), 'a b');
});
