// End to end, one real aisnode: buckets and objects over S3 (AWS SDK v3 and raw HTTP), bucket props
// over the native API, and object metadata checked on disk.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, objPath, sha256, md5, random, type AisNode } from './helpers/node';
import { getxattr, hashInit, hashUpdate, hashDigest } from '../src/native';
import { decodeLom, LOM_XATTR, type Lom } from '../src/fs/lom';

let node: AisNode;
let s3: S3Client;

test.before(async () => {
  node = await startNode({ name: 'basic' });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'basic-sizes' }));
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

/** The S3 error an SDK call threw: name (code) and HTTP status. */
async function s3Error(t: { fail(msg: string): void }, p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return { name: err.name, status: err.$metadata.httpStatusCode };
    throw err;
  }
  t.fail('expected the request to fail');
  return { name: '', status: undefined };
}

async function getBytes(bucket: string, key: string): Promise<{ body: Buffer; out: GetObjectCommandOutput }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  return { body, out };
}

/** The object file of a plain key (letters, digits, '/') on whichever mountpath holds it. */
function objectFile(bucket: string, key: string): string {
  const found = node.dirs.mountpaths.map((mp) => path.join(mp, '@ais', bucket, '%ob', key)).filter((f) => fs.existsSync(f));
  if (found.length !== 1) throw new Error(`${bucket}/${key}: found on ${found.length} mountpaths`);
  return found[0]!;
}

function lomOf(file: string): Lom {
  const raw = getxattr(file, LOM_XATTR);
  if (!raw) throw new Error(`${file}: no ${LOM_XATTR}`);
  return decodeLom(raw);
}

async function createBucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}

test.serial('bucket lifecycle: create, head, list, conflicts, not empty, delete', async (t) => {
  const b = 'basic-lifecycle';
  await createBucket(b);
  const head = await s3.send(new HeadBucketCommand({ Bucket: b }));
  t.is(head.$metadata.httpStatusCode, 200);

  const listed = await s3.send(new ListBucketsCommand({}));
  t.true(listed.Buckets!.some((x) => x.Name === b));
  t.true(listed.Buckets!.find((x) => x.Name === b)!.CreationDate instanceof Date);

  // Creating it again: 409 BucketAlreadyOwnedByYou with the XML body.
  const again = await request(node.url, { method: 'PUT', path: `/s3/${b}` });
  t.is(again.status, 409);
  t.is(xmlCode(again.body), 'BucketAlreadyOwnedByYou');
  t.deepEqual(await s3Error(t, createBucket(b)), { name: 'BucketAlreadyOwnedByYou', status: 409 });

  // Not empty: 409 BucketNotEmpty, the bucket and its object survive.
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: Buffer.from('x') }));
  const notEmpty = await request(node.url, { method: 'DELETE', path: `/s3/${b}` });
  t.is(notEmpty.status, 409);
  t.is(xmlCode(notEmpty.body), 'BucketNotEmpty');
  t.is((await getBytes(b, 'x')).body.toString(), 'x');

  await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'x' }));
  const del = await request(node.url, { method: 'DELETE', path: `/s3/${b}` });
  t.is(del.status, 204);

  // Gone: HEAD 404 without a body; GET (list) and DELETE answer NoSuchBucket.
  const headGone = await request(node.url, { method: 'HEAD', path: `/s3/${b}` });
  t.is(headGone.status, 404);
  t.is(headGone.body.length, 0);
  t.deepEqual(await s3Error(t, s3.send(new HeadBucketCommand({ Bucket: b }))), { name: 'NotFound', status: 404 });
  const listGone = await request(node.url, { method: 'GET', path: `/s3/${b}?list-type=2` });
  t.is(listGone.status, 404);
  t.is(xmlCode(listGone.body), 'NoSuchBucket');
  t.regex(listGone.headers['content-type'] ?? '', /xml/);
  const delGone = await request(node.url, { method: 'DELETE', path: `/s3/${b}` });
  t.is(delGone.status, 404);
  t.is(xmlCode(delGone.body), 'NoSuchBucket');
  t.false((await s3.send(new ListBucketsCommand({}))).Buckets!.some((x) => x.Name === b));

  // Objects of a missing bucket: NoSuchBucket, not NoSuchKey.
  const putGone = await request(node.url, { method: 'PUT', path: `/s3/${b}/k`, body: 'abc' });
  t.is(putGone.status, 404);
  t.is(xmlCode(putGone.body), 'NoSuchBucket');
  const getGone = await request(node.url, { method: 'GET', path: `/s3/${b}/k` });
  t.is(getGone.status, 404);
  t.is(xmlCode(getGone.body), 'NoSuchBucket');

  // The name is free again.
  await createBucket(b);
  t.is((await s3.send(new HeadBucketCommand({ Bucket: b }))).$metadata.httpStatusCode, 200);
  await s3.send(new DeleteBucketCommand({ Bucket: b }));
});

test('invalid bucket names: 400 InvalidBucketName, nothing created', async (t) => {
  for (const name of ['ab', 'UPPER', 'under_score', '-lead', 'trail-', 'a..b', '192.168.1.1', 'x'.repeat(64), 'xn--abc']) {
    const r = await request(node.url, { method: 'PUT', path: `/s3/${name}` });
    t.is(r.status, 400, name);
    t.is(xmlCode(r.body), 'InvalidBucketName', name);
  }
  const names = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((x) => x.Name);
  for (const name of ['ab', 'UPPER', 'under_score']) t.false(names.includes(name));
});

const MiB = 1 << 20;
for (const size of [0, 1, MiB - 1, MiB, MiB + 1, 5 * MiB + 123]) {
  test(`object of ${size} bytes: PUT, GET, HEAD, DELETE with exact headers`, async (t) => {
    const b = 'basic-sizes';
    const data = random(size);
    const key = `obj-${size}`;
    const before = Math.floor(Date.now() / 1000) * 1000;
    const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: data }));
    const after = Date.now();
    t.is(put.ETag, `"${md5(data)}"`, `PUT ETag of ${size}`);

    const { body, out } = await getBytes(b, key);
    t.is(body.length, size);
    t.is(sha256(body), sha256(data), `content of ${size}`);
    t.is(out.ETag, `"${md5(data)}"`);
    t.is(out.ContentLength, size);
    t.is(out.AcceptRanges, 'bytes');
    const lm = out.LastModified!.getTime();
    t.true(lm >= before && lm <= after + 1000, `Last-Modified ${lm} within [${before}, ${after}]`);

    // Raw: exact headers, and HEAD has no body.
    const rawGet = await request(node.url, { method: 'GET', path: objPath(b, key) });
    t.is(rawGet.status, 200);
    t.is(rawGet.headers['content-length'], String(size));
    t.is(sha256(rawGet.body), sha256(data));
    const raw = await request(node.url, { method: 'HEAD', path: objPath(b, key) });
    t.is(raw.status, 200);
    t.is(raw.headers['content-length'], String(size), 'HEAD Content-Length');
    t.is(raw.headers.etag, `"${md5(data)}"`);
    t.is(raw.headers['accept-ranges'], 'bytes');
    t.is(raw.headers['last-modified'], rawGet.headers['last-modified']);
    t.regex(raw.headers['last-modified'] ?? '', /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    t.is(raw.body.length, 0);

    const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    t.is(head.ContentLength, size, 'HeadObject ContentLength');
    t.is(head.ETag, `"${md5(data)}"`);
    t.is(head.AcceptRanges, 'bytes');
    t.is(head.LastModified!.getTime(), lm);

    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: key }));
    t.deepEqual(await s3Error(t, s3.send(new HeadObjectCommand({ Bucket: b, Key: key }))), { name: 'NotFound', status: 404 });
    t.deepEqual(await s3Error(t, s3.send(new GetObjectCommand({ Bucket: b, Key: key }))), { name: 'NoSuchKey', status: 404 });
  });
}

test('Content-Type and x-amz-meta-* round-trip', async (t) => {
  const b = 'basic-meta';
  await createBucket(b);
  const data = Buffer.from('{"hello":"world"}');
  await s3.send(
    new PutObjectCommand({ Bucket: b, Key: 'doc.json', Body: data, ContentType: 'application/json; charset=utf-8', Metadata: { color: 'blue', 'multi-word': 'a b  c', empty: '' } }),
  );
  const { body, out } = await getBytes(b, 'doc.json');
  t.is(body.toString(), data.toString());
  t.is(out.ContentType, 'application/json; charset=utf-8');
  t.deepEqual(out.Metadata, { color: 'blue', 'multi-word': 'a b  c', empty: '' });
  const head = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc.json' }));
  t.is(head.ContentType, 'application/json; charset=utf-8');
  t.deepEqual(head.Metadata, { color: 'blue', 'multi-word': 'a b  c', empty: '' });

  // Without a Content-Type: S3's default.
  await request(node.url, { method: 'PUT', path: objPath(b, 'plain'), body: 'abc' });
  const raw = await request(node.url, { method: 'GET', path: objPath(b, 'plain') });
  t.is(raw.status, 200);
  t.is(raw.headers['content-type'], 'application/octet-stream');
  t.is(raw.body.toString(), 'abc');

  // Metadata is replaced, not merged, by an overwrite.
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'doc.json', Body: Buffer.from('2'), Metadata: { shape: 'round' } }));
  const head2 = await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'doc.json' }));
  t.deepEqual(head2.Metadata, { shape: 'round' });
  t.is(head2.ContentType, 'application/octet-stream');
});

test('overwrite replaces the content; DELETE of a missing key is 204; GET of a missing key is NoSuchKey', async (t) => {
  const b = 'basic-overwrite';
  await createBucket(b);
  const v1 = random(300_000);
  const v2 = random(1000);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: v1 }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: v2 }));
  const { body, out } = await getBytes(b, 'k');
  t.is(sha256(body), sha256(v2));
  t.is(out.ETag, `"${md5(v2)}"`);
  t.is(out.ContentLength, 1000);
  // One file only, on one mountpath.
  t.is(fs.statSync(objectFile(b, 'k')).size, 1000);

  const del = await request(node.url, { method: 'DELETE', path: objPath(b, 'never-was') });
  t.is(del.status, 204);
  t.is(del.body.length, 0);
  const del1 = await request(node.url, { method: 'DELETE', path: objPath(b, 'k') });
  t.is(del1.status, 204);
  const del2 = await request(node.url, { method: 'DELETE', path: objPath(b, 'k') });
  t.is(del2.status, 204);

  const get = await request(node.url, { method: 'GET', path: objPath(b, 'k') });
  t.is(get.status, 404);
  t.regex(get.headers['content-type'] ?? '', /xml/);
  t.is(xmlCode(get.body), 'NoSuchKey');
  t.regex(get.body.toString(), /<Key>k<\/Key>/);
  t.deepEqual(await s3Error(t, s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))), { name: 'NoSuchKey', status: 404 });
  const head = await request(node.url, { method: 'HEAD', path: objPath(b, 'k') });
  t.is(head.status, 404);
  t.is(head.body.length, 0);
});

test('unknown sub-resources: 501 NotImplemented; wrong methods: 405 MethodNotAllowed', async (t) => {
  const b = 'basic-subres';
  await createBucket(b);
  await request(node.url, { method: 'PUT', path: objPath(b, 'o'), body: 'o' });
  const cases501: [string, string][] = [
    ['GET', `/s3/${b}?cors`],
    ['GET', `/s3/${b}?policy`],
    ['PUT', `/s3/${b}?acl`],
    ['GET', `/s3/${b}?lifecycle`],
    ['PUT', `/s3/${b}?tagging`],
    ['PUT', `/s3/${b}/o?acl`],
  ];
  for (const [method, p] of cases501) {
    const r = await request(node.url, { method, path: p, body: method === 'PUT' ? '<x/>' : undefined });
    t.is(r.status, 501, `${method} ${p}`);
    t.is(xmlCode(r.body), 'NotImplemented', `${method} ${p}`);
    t.regex(r.headers['content-type'] ?? '', /xml/);
  }
  // PUT ?acl must not have created or changed anything.
  const o = await request(node.url, { method: 'GET', path: objPath(b, 'o') });
  t.is(o.body.toString(), 'o');

  const cases405: [string, string][] = [
    ['DELETE', '/s3'],
    ['PUT', '/s3/'],
    ['PATCH', `/s3/${b}`],
    ['POST', `/s3/${b}/o`],
    ['PATCH', `/s3/${b}/o`],
    ['POST', `/s3/${b}?location`],
  ];
  for (const [method, p] of cases405) {
    const r = await request(node.url, { method, path: p });
    t.is(r.status, 405, `${method} ${p}`);
    t.is(xmlCode(r.body), 'MethodNotAllowed', `${method} ${p}`);
  }
  t.is((await request(node.url, { method: 'GET', path: objPath(b, 'o') })).body.toString(), 'o');
});

async function setProps(bucket: string, value: Record<string, unknown>): Promise<void> {
  const r = await request(node.url, {
    method: 'PATCH',
    path: `/v1/buckets/${bucket}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'set-bprops', value }),
  });
  if (r.status !== 200) throw new Error(`set-bprops ${bucket}: ${r.status} ${r.body.toString()}`);
}

function xxhashHex(data: Buffer): string {
  const st = hashInit('xxhash');
  hashUpdate('xxhash', st, data);
  return hashDigest('xxhash', st);
}

test('object metadata on disk: default xxhash + MD5 ETag; checksum.type=md5 via set-bprops', async (t) => {
  const b = 'basic-props';
  await createBucket(b);
  const data = random(2 * (1 << 20) + 7);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'dflt', Body: data, ContentType: 'text/plain', Metadata: { k: 'v' } }));
  const lom = lomOf(objectFile(b, 'dflt'));
  t.is(lom.size, data.length);
  t.is(lom.cksumType, 'xxhash');
  t.is(lom.cksumValue, xxhashHex(data));
  t.is(lom.md5, md5(data));
  t.is(lom.contentType, 'text/plain');
  t.deepEqual(lom.meta, { k: 'v' });
  t.is(fs.statSync(objectFile(b, 'dflt')).size, data.length);

  await setProps(b, { checksum: { type: 'md5' } });
  const props = await request(node.url, { method: 'GET', path: `/v1/buckets/${b}` });
  t.is(JSON.parse(props.body.toString()).checksum.type, 'md5');
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'm', Body: data }));
  const lom2 = lomOf(objectFile(b, 'm'));
  t.is(lom2.cksumType, 'md5');
  t.is(lom2.cksumValue, md5(data));
  t.is(lom2.size, data.length);
  const { body, out } = await getBytes(b, 'm');
  t.is(sha256(body), sha256(data));
  t.is(out.ETag, `"${md5(data)}"`);
  // The older object keeps the checksum it was written with, and is still served verified.
  t.is(lomOf(objectFile(b, 'dflt')).cksumType, 'xxhash');
  t.is(sha256((await getBytes(b, 'dflt')).body), sha256(data));

  // Bad props: 400, nothing changes.
  const bad = await request(node.url, { method: 'PATCH', path: `/v1/buckets/${b}`, body: JSON.stringify({ action: 'set-bprops', value: { checksum: { type: 'crc64' } } }) });
  t.is(bad.status, 400);
  const missing = await request(node.url, { method: 'PATCH', path: '/v1/buckets/no-such-bucket', body: JSON.stringify({ action: 'set-bprops', value: { checksum: { type: 'md5' } } }) });
  t.is(missing.status, 404);
});

test('md5_etag=false: the ETag derives from the checksum (v1-...), not the MD5', async (t) => {
  const b = 'basic-noetag';
  await createBucket(b);
  await setProps(b, { checksum: { md5_etag: false } });
  const data = random(100_000);
  const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: data }));
  t.truthy(put.ETag);
  t.not(put.ETag, `"${md5(data)}"`);
  t.true(put.ETag!.startsWith('"v1-'), put.ETag);
  const { body, out } = await getBytes(b, 'k');
  t.is(sha256(body), sha256(data));
  t.is(out.ETag, put.ETag);
  t.is((await s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ETag, put.ETag);
  const lom = lomOf(objectFile(b, 'k'));
  t.is(lom.md5, undefined);
  t.is(lom.cksumType, 'xxhash');
  t.true(put.ETag!.includes(lom.cksumValue));
});

test('SDK default checksums: a streamed PUT (aws-chunked, CRC32 trailer) and a Buffer PUT round-trip', async (t) => {
  const b = 'basic-sdkdefault';
  await createBucket(b);
  const s3d = s3Client(node.url, { sdkDefaultChecksums: true });
  try {
    const data = random(3 * MiB + 17);
    // A stream body of known length: the SDK frames it aws-chunked with a trailing x-amz-checksum-crc32.
    await s3d.send(new PutObjectCommand({ Bucket: b, Key: 'streamed', Body: Readable.from(chunksOf(data, 64 * 1024)), ContentLength: data.length }));
    const lom = lomOf(objectFile(b, 'streamed'));
    t.is(lom.size, data.length, 'stored size is the decoded size, not the framed one');
    t.is(lom.md5, md5(data));
    const got = await s3d.send(new GetObjectCommand({ Bucket: b, Key: 'streamed' }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    t.is(sha256(body), sha256(data));
    t.is(got.ETag, `"${md5(data)}"`);

    const small = random(1000);
    const put = await s3d.send(new PutObjectCommand({ Bucket: b, Key: 'buffer', Body: small }));
    t.is(put.ETag, `"${md5(small)}"`);
    const got2 = await s3d.send(new GetObjectCommand({ Bucket: b, Key: 'buffer' }));
    t.is(sha256(Buffer.from(await got2.Body!.transformToByteArray())), sha256(small));
  } finally {
    s3d.destroy();
  }
});

function* chunksOf(b: Buffer, n: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n);
}
