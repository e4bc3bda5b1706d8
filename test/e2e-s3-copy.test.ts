// End to end: CopyObject within and across buckets (different checksum types), metadata directive
// COPY / REPLACE, copying onto itself, x-amz-copy-source-if-*, errors, a corrupted source, large
// objects (several pool tasks), through @aws-sdk/client-s3 and raw HTTP.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, xmlAll, objPath, sha256, md5, random, walkFiles, sleep, type AisNode, type RawResponse } from './helpers/node';
import { getxattr } from '../src/native';
import { decodeLom, LOM_XATTR } from '../src/fs/lom';

let node: AisNode;
let s3: S3Client;
const A = 'copy-a';
const B = 'copy-b'; // sha256 checksums, A has the default (xxhash)

test.before(async () => {
  node = await startNode({ name: 'copy' });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: A }));
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  const r = await request(node.url, { method: 'PATCH', path: `/v1/buckets/${B}`, body: JSON.stringify({ action: 'set-bprops', value: { checksum: { type: 'sha256' } } }) });
  if (r.status !== 200) throw new Error(`set-bprops: ${r.status}`);
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

async function getObj(bucket: string, key: string): Promise<RawResponse> {
  return request(node.url, { method: 'GET', path: objPath(bucket, key) });
}

function copy(bucket: string, key: string, source: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(node.url, { method: 'PUT', path: objPath(bucket, key), headers: { 'x-amz-copy-source': source, ...headers } });
}

function src(bucket: string, key: string): string {
  return `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

function objectFile(bucket: string, key: string): string {
  const found = node.dirs.mountpaths.map((mp) => path.join(mp, '@ais', bucket, '%ob', key)).filter((f) => fs.existsSync(f));
  if (found.length !== 1) throw new Error(`${bucket}/${key}: on ${found.length} mountpaths`);
  return found[0]!;
}

function noWorkFiles(): string[] {
  // Copies only (the tests that look are serial): PUTs of tests running beside them may be in flight.
  return node.dirs.mountpaths.flatMap((mp) => [A, B].flatMap((b) => walkFiles(path.join(mp, '@ais', b, '%wk')))).filter((f) => path.basename(f).startsWith('copy.'));
}

async function s3Status(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
    return { name: 'ok', status: 200 };
  } catch (err) {
    if (err instanceof S3ServiceException) return { name: err.name, status: err.$metadata.httpStatusCode };
    throw err;
  }
}

test('SDK: copy within a bucket keeps bytes, content type and user metadata (directive COPY)', async (t) => {
  const data = random(123_457);
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'src/one', Body: data, ContentType: 'text/x-one', Metadata: { color: 'blue', n: '1' } }));
  const out = await s3.send(new CopyObjectCommand({ Bucket: A, Key: 'dst/one', CopySource: `${A}/src/one` }));
  t.is(out.CopyObjectResult?.ETag, `"${md5(data)}"`);
  t.truthy(out.CopyObjectResult?.LastModified);
  const got = await s3.send(new GetObjectCommand({ Bucket: A, Key: 'dst/one' }));
  t.is(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(data));
  t.is(got.ContentType, 'text/x-one');
  t.deepEqual(got.Metadata, { color: 'blue', n: '1' });
  t.is(got.ETag, `"${md5(data)}"`);
  // The source is untouched.
  const s = await getObj(A, 'src/one');
  t.is(sha256(s.body), sha256(data));
});

test.serial('copy across buckets computes the destination bucket checksum (sha256) and MD5', async (t) => {
  const data = random(3 * 1024 * 1024 + 5);
  t.is((await request(node.url, { method: 'PUT', path: objPath(A, 'x/cross'), body: data })).status, 200);
  const r = await copy(B, 'y/cross', src(A, 'x/cross'));
  t.is(r.status, 200, r.body.toString());
  t.is(r.headers['content-type'], 'application/xml');
  t.deepEqual(xmlAll(r.body, 'ETag'), [`"${md5(data)}"`]);
  t.regex(xmlAll(r.body, 'LastModified')[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.true(r.body.toString().includes('<CopyObjectResult'));
  const lom = decodeLom(getxattr(objectFile(B, 'y/cross'), LOM_XATTR)!);
  t.is(lom.cksumType, 'sha256');
  t.is(lom.cksumValue, sha256(data));
  t.is(lom.md5, md5(data));
  t.is(lom.size, data.length);
  t.is(sha256((await getObj(B, 'y/cross')).body), sha256(data));
  t.deepEqual(noWorkFiles(), []);
});

test.serial('large copy (several pool tasks, O_DIRECT where possible) is byte-exact', async (t) => {
  const data = random(66 * 1024 * 1024 + 123);
  t.is((await request(node.url, { method: 'PUT', path: objPath(A, 'big/src'), body: data })).status, 200);
  const r = await copy(B, 'big/dst', src(A, 'big/src'));
  t.is(r.status, 200, r.body.toString());
  t.deepEqual(xmlAll(r.body, 'ETag'), [`"${md5(data)}"`]);
  const g = await getObj(B, 'big/dst');
  t.is(g.body.length, data.length);
  t.is(sha256(g.body), sha256(data));
  t.deepEqual(noWorkFiles(), []);
});

test('empty object and hostile key names', async (t) => {
  t.is((await request(node.url, { method: 'PUT', path: objPath(A, 'empty'), body: '' })).status, 200);
  const r = await copy(A, 'empty-copy', src(A, 'empty'));
  t.is(r.status, 200);
  t.deepEqual(xmlAll(r.body, 'ETag'), [`"${md5(Buffer.alloc(0))}"`]);
  const g = await getObj(A, 'empty-copy');
  t.is(g.status, 200);
  t.is(g.body.length, 0);
  const key = 'we ird/ä+b?c=d&e%f#g';
  const data = random(999);
  await s3.send(new PutObjectCommand({ Bucket: A, Key: key, Body: data }));
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: key + '.copy', CopySource: encodeURIComponent(`${A}/${key}`) }));
  const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: key + '.copy' }));
  t.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), data);
});

test('directive REPLACE takes content type and metadata from the request', async (t) => {
  const data = random(5000);
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'rep/src', Body: data, ContentType: 'text/old', Metadata: { old: 'yes' } }));
  await s3.send(
    new CopyObjectCommand({ Bucket: A, Key: 'rep/dst', CopySource: `${A}/rep/src`, MetadataDirective: 'REPLACE', ContentType: 'text/new', Metadata: { fresh: 'v' } }),
  );
  const h = await s3.send(new HeadObjectCommand({ Bucket: A, Key: 'rep/dst' }));
  t.is(h.ContentType, 'text/new');
  t.deepEqual(h.Metadata, { fresh: 'v' });
  t.is(h.ContentLength, data.length);
  const bad = await copy(A, 'rep/bad', src(A, 'rep/src'), { 'x-amz-metadata-directive': 'MERGE' });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'InvalidArgument');
  t.is((await getObj(A, 'rep/bad')).status, 404);
});

test('copy onto itself: InvalidRequest without REPLACE, metadata updated with it', async (t) => {
  const data = random(70_000);
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'self', Body: data, ContentType: 'text/a', Metadata: { v: '1' } }));
  const before = await s3.send(new HeadObjectCommand({ Bucket: A, Key: 'self' }));
  const r = await copy(A, 'self', src(A, 'self'));
  t.is(r.status, 400);
  t.is(xmlCode(r.body), 'InvalidRequest');
  t.true(r.body.toString().includes('copy an object to itself'));
  const same = await s3.send(new HeadObjectCommand({ Bucket: A, Key: 'self' }));
  t.deepEqual(same.Metadata, { v: '1' });
  await sleep(1100); // Last-Modified has whole seconds
  await s3.send(new CopyObjectCommand({ Bucket: A, Key: 'self', CopySource: `${A}/self`, MetadataDirective: 'REPLACE', ContentType: 'text/b', Metadata: { v: '2' } }));
  const after = await s3.send(new GetObjectCommand({ Bucket: A, Key: 'self' }));
  t.is(after.ContentType, 'text/b');
  t.deepEqual(after.Metadata, { v: '2' });
  t.is(after.ETag, before.ETag);
  t.true(after.LastModified!.getTime() > before.LastModified!.getTime());
  t.is(sha256(Buffer.from(await after.Body!.transformToByteArray())), sha256(data));
});

test('x-amz-copy-source-if-*: 412 and nothing written; precedence as S3 documents', async (t) => {
  const data = random(4096);
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'cond/src', Body: data }));
  const h = await request(node.url, { method: 'HEAD', path: objPath(A, 'cond/src') });
  const etag = String(h.headers.etag);
  const lm = Date.parse(String(h.headers['last-modified']));
  const past = new Date(lm - 60_000).toUTCString();
  const future = new Date(lm + 60_000).toUTCString();
  const cases: [Record<string, string>, number][] = [
    [{ 'x-amz-copy-source-if-match': etag }, 200],
    [{ 'x-amz-copy-source-if-match': '"nope"' }, 412],
    [{ 'x-amz-copy-source-if-none-match': etag }, 412],
    [{ 'x-amz-copy-source-if-none-match': '"nope"' }, 200],
    [{ 'x-amz-copy-source-if-modified-since': past }, 200],
    [{ 'x-amz-copy-source-if-modified-since': future }, 412],
    [{ 'x-amz-copy-source-if-unmodified-since': future }, 200],
    [{ 'x-amz-copy-source-if-unmodified-since': past }, 412],
    // if-match true + if-unmodified-since false → copied
    [{ 'x-amz-copy-source-if-match': etag, 'x-amz-copy-source-if-unmodified-since': past }, 200],
    // if-none-match false + if-modified-since true → 412
    [{ 'x-amz-copy-source-if-none-match': etag, 'x-amz-copy-source-if-modified-since': past }, 412],
  ];
  for (const [i, [headers, status]] of cases.entries()) {
    const dst = `cond/dst-${i}`;
    const r = await copy(A, dst, src(A, 'cond/src'), headers);
    t.is(r.status, status, JSON.stringify(headers));
    if (status === 412) {
      t.is(xmlCode(r.body), 'PreconditionFailed');
      t.is((await getObj(A, dst)).status, 404);
    } else {
      t.is(sha256((await getObj(A, dst)).body), sha256(data));
    }
  }
  const sdk = await s3Status(s3.send(new CopyObjectCommand({ Bucket: A, Key: 'cond/sdk', CopySource: `${A}/cond/src`, CopySourceIfMatch: '"nope"' })));
  t.is(sdk.status, 412);
});

test('missing source key / source bucket / destination bucket, bad copy source', async (t) => {
  const a = await copy(A, 'm/dst', src(A, 'no/such/key'));
  t.is(a.status, 404);
  t.is(xmlCode(a.body), 'NoSuchKey');
  const b = await copy(A, 'm/dst', src('no-such-bucket', 'k'));
  t.is(b.status, 404);
  t.is(xmlCode(b.body), 'NoSuchBucket');
  t.true(b.body.toString().includes('<BucketName>no-such-bucket</BucketName>'));
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'm/src', Body: 'x' }));
  const c = await copy('no-such-bucket', 'm/dst', src(A, 'm/src'));
  t.is(c.status, 404);
  t.is(xmlCode(c.body), 'NoSuchBucket');
  const d = await copy(A, 'm/dst', 'just-a-bucket');
  t.is(d.status, 400);
  t.is(xmlCode(d.body), 'InvalidArgument');
  const e = await copy(A, 'm/dst', src(A, 'm/src') + '?versionId=v123');
  t.is(e.status, 400);
  const f = await copy(A, 'm/dst', src(A, 'm/src') + '?versionId=null');
  t.is(f.status, 200);
  const sdk = await s3Status(s3.send(new CopyObjectCommand({ Bucket: A, Key: 'm/sdk', CopySource: `${A}/nothing-here` })));
  t.deepEqual(sdk, { name: 'NoSuchKey', status: 404 });
});

test.serial('a corrupted source is never copied; the old destination stays', async (t) => {
  const data = random(2 * 1024 * 1024 + 100);
  t.is((await request(node.url, { method: 'PUT', path: objPath(A, 'bad/src'), body: data })).status, 200);
  const old = random(10);
  t.is((await request(node.url, { method: 'PUT', path: objPath(B, 'bad/dst'), body: old })).status, 200);
  const file = objectFile(A, 'bad/src');
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.from([data[data.length - 1]! ^ 0xff]), 0, 1, data.length - 1); // the last byte
  fs.closeSync(fd);
  const r = await copy(B, 'bad/dst', src(A, 'bad/src'));
  t.is(r.status, 500);
  t.is(xmlCode(r.body), 'InternalError');
  t.deepEqual((await getObj(B, 'bad/dst')).body, old);
  // A small corrupted source (one buffer) too.
  const small = random(1000);
  t.is((await request(node.url, { method: 'PUT', path: objPath(A, 'bad/small'), body: small })).status, 200);
  const f2 = objectFile(A, 'bad/small');
  const fd2 = fs.openSync(f2, 'r+');
  fs.writeSync(fd2, Buffer.from([small[0]! ^ 1]), 0, 1, 0);
  fs.closeSync(fd2);
  const r2 = await copy(B, 'bad/small', src(A, 'bad/small'));
  t.is(r2.status, 500);
  t.is((await getObj(B, 'bad/small')).status, 404);
  t.deepEqual(noWorkFiles(), []);
});

test('conditional copy destination: If-None-Match: *', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'cd/src', Body: 'source' }));
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'cd/dst', Body: 'exists' }));
  const r = await copy(A, 'cd/dst', src(A, 'cd/src'), { 'If-None-Match': '*' });
  t.is(r.status, 412);
  t.is((await getObj(A, 'cd/dst')).body.toString(), 'exists');
  const r2 = await copy(A, 'cd/new', src(A, 'cd/src'), { 'If-None-Match': '*' });
  t.is(r2.status, 200);
  t.is((await getObj(A, 'cd/new')).body.toString(), 'source');
});

test('the copy keeps the source checksum algorithm (computed over the copy), or takes x-amz-checksum-algorithm', async (t) => {
  const data = random(2 * 1024 * 1024 + 9);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(data) >>> 0);
  await s3.send(new PutObjectCommand({ Bucket: A, Key: 'flex/src', Body: data, ChecksumAlgorithm: 'CRC32' }));
  const out = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'flex/dst', CopySource: `${A}/flex/src` }));
  t.is(out.CopyObjectResult?.ChecksumCRC32, crc.toString('base64'));
  const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'flex/dst', ChecksumMode: 'ENABLED' }));
  t.is(h.ChecksumCRC32, crc.toString('base64'));
  t.is(h.ChecksumType, 'FULL_OBJECT');
  const asked = await copy(B, 'flex/asked', src(A, 'flex/src'), { 'x-amz-checksum-algorithm': 'SHA256' });
  t.is(asked.status, 200);
  t.is(xmlAll(asked.body, 'ChecksumSHA256')[0], createHash('sha256').update(data).digest('base64'));
  const bad = await copy(B, 'flex/bad', src(A, 'flex/src'), { 'x-amz-checksum-algorithm': 'MD4' });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'InvalidRequest');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(B, 'flex/bad') })).status, 404);
});
