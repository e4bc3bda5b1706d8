// End to end, one real aisnode: S3 multipart upload through @aws-sdk/client-s3 and raw HTTP — parts sent
// concurrently and out of order, the multipart ETag, every error the S3 API reference lists for
// CompleteMultipartUpload, abort, listings with paging, a restart mid-upload, GET/HEAD ?partNumber, and
// the removal of abandoned uploads.
import test from 'ava';
import { flipByte } from './helpers/disk';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, xmlAll, objPath, sha256, md5, random, sleep, walkFiles, type AisNode } from './helpers/node';
import { getxattr } from '../src/native';
import { decodeLom, LOM_XATTR } from '../src/fs/lom';

const MiB = 1 << 20;
const B = 'mpu';

let node: AisNode;
let s3: S3Client;

test.before(async () => {
  node = await startNode({ name: 'mpu', config: { io: { fsync_put: false } } });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

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

/** S3's multipart ETag: MD5 of the concatenated binary part MD5s, "-N". */
function multipartEtag(parts: readonly Buffer[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `${h.digest('hex')}-${parts.length}`;
}

async function create(key: string, extra: { ContentType?: string; Metadata?: Record<string, string> } = {}): Promise<string> {
  const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ...extra }));
  return r.UploadId!;
}

async function uploadPart(key: string, uploadId: string, n: number, body: Buffer): Promise<string> {
  const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: uploadId, PartNumber: n, Body: body }));
  return r.ETag!;
}

async function complete(key: string, uploadId: string, parts: { PartNumber: number; ETag: string }[]): Promise<string> {
  const r = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  return r.ETag!;
}

async function getBytes(key: string, partNumber?: number): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: B, Key: key, PartNumber: partNumber }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function uploadDirs(): string[] {
  return node.dirs.mountpaths.flatMap((mp) => {
    try {
      return fs.readdirSync(path.join(mp, '@ais', B, '%mp'));
    } catch {
      return [];
    }
  });
}

/** Three parts: 5 MiB, 6 MiB and a short tail; uploaded concurrently in reverse order. */
async function uploadThree(key: string, uploadId: string): Promise<{ parts: Buffer[]; etags: string[] }> {
  const parts = [random(5 * MiB), random(6 * MiB), random(12345)];
  const etags: string[] = new Array(3);
  await Promise.all([2, 1, 0].map(async (i) => (etags[i] = await uploadPart(key, uploadId, i + 1, parts[i]!))));
  return { parts, etags };
}

test('concurrent out-of-order parts, complete, GET bytes and multipart ETag, metadata from Create', async (t) => {
  const key = 'data/big.bin';
  const id = await create(key, { ContentType: 'application/x-test', Metadata: { origin: 'mpu-test' } });
  t.true(uploadDirs().includes(id));
  const { parts, etags } = await uploadThree(key, id);
  parts.forEach((p, i) => t.is(etags[i], `"${md5(p)}"`));
  const etag = await complete(key, id, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })));
  const expected = multipartEtag(parts);
  t.is(etag, `"${expected}"`);
  const whole = Buffer.concat(parts);
  t.is(sha256(await getBytes(key)), sha256(whole));

  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
  t.is(head.ETag, `"${expected}"`);
  t.is(head.ContentLength, whole.length);
  t.is(head.ContentType, 'application/x-test');
  t.deepEqual(head.Metadata, { origin: 'mpu-test' });
  t.false(uploadDirs().includes(id), 'the upload folder is removed');

  // On disk: one object file whose LOM has the explicit ETag and a verified bucket checksum.
  const files = node.dirs.mountpaths.flatMap((mp) => walkFiles(path.join(mp, '@ais', B, '%ob'))).filter((f) => f.endsWith('big.bin'));
  t.is(files.length, 1);
  const lom = decodeLom(getxattr(files[0]!, LOM_XATTR)!);
  t.is(lom.etag, expected);
  t.is(lom.size, whole.length);
  t.is(lom.cksumType, 'xxhash');
  t.is(fs.statSync(files[0]!).size, whole.length);
});

test('GET and HEAD ?partNumber serve one part with x-amz-mp-parts-count', async (t) => {
  const key = 'parts/obj';
  const id = await create(key);
  const { parts, etags } = await uploadThree(key, id);
  await complete(key, id, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })));
  for (const n of [1, 2, 3]) t.is(sha256(await getBytes(key, n)), sha256(parts[n - 1]!));

  const r = await request(node.url, { method: 'GET', path: objPath(B, key) + '?partNumber=2' });
  t.is(r.status, 206);
  t.is(r.headers['x-amz-mp-parts-count'], '3');
  t.is(r.headers['content-range'], `bytes ${5 * MiB}-${11 * MiB - 1}/${11 * MiB + 12345}`);
  const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key, PartNumber: 3 }));
  t.is(h.ContentLength, 12345);
  t.is(h.PartsCount, 3);

  const etag = r.headers.etag as string;
  const nm = await request(node.url, { method: 'GET', path: objPath(B, key) + '?partNumber=1', headers: { 'If-None-Match': etag } });
  t.is(nm.status, 304);
  const pf = await request(node.url, { method: 'GET', path: objPath(B, key) + '?partNumber=1', headers: { 'If-Match': '"other"' } });
  t.is(pf.status, 412);
  const both = await request(node.url, { method: 'GET', path: objPath(B, key) + '?partNumber=1', headers: { Range: 'bytes=0-1' } });
  t.is(both.status, 400);

  const bad = await request(node.url, { method: 'GET', path: objPath(B, key) + '?partNumber=4' });
  t.is(bad.status, 416);
  t.is(xmlCode(bad.body), 'InvalidPartNumber');

  // A plain object is one part.
  const plain = random(1000);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'parts/plain', Body: plain }));
  t.is(sha256(await getBytes('parts/plain', 1)), sha256(plain));
  const two = await request(node.url, { method: 'GET', path: objPath(B, 'parts/plain') + '?partNumber=2' });
  t.is(two.status, 416);
});

test('a re-uploaded part replaces the first; unquoted ETags are accepted', async (t) => {
  const key = 'replace';
  const id = await create(key);
  await uploadPart(key, id, 1, random(5 * MiB));
  const p1 = random(5 * MiB);
  const e1 = await uploadPart(key, id, 1, p1);
  const p2 = random(10);
  const e2 = await uploadPart(key, id, 2, p2);
  const etag = await complete(key, id, [
    { PartNumber: 1, ETag: e1.replaceAll('"', '') },
    { PartNumber: 2, ETag: e2 },
  ]);
  t.is(etag, `"${multipartEtag([p1, p2])}"`);
  t.is(sha256(await getBytes(key)), sha256(Buffer.concat([p1, p2])));
});

test('a single small part makes a valid object; completing again: the same 200 for the same parts, else NoSuchUpload', async (t) => {
  const key = 'single';
  const id = await create(key);
  const body = random(100);
  const e = await uploadPart(key, id, 7, body);
  t.is(await complete(key, id, [{ PartNumber: 7, ETag: e }]), `"${multipartEtag([body])}"`);
  t.is(sha256(await getBytes(key)), sha256(body));
  const file = node.dirs.mountpaths.flatMap((mp) => walkFiles(path.join(mp, '@ais', B, '%ob'))).find((f) => path.basename(f) === key)!;
  const ino = fs.statSync(file).ino;
  // A retry (S3 answers it as the first): same ETag, and nothing is written again (a publish is a rename: a new inode).
  t.is(await complete(key, id, [{ PartNumber: 7, ETag: e }]), `"${multipartEtag([body])}"`);
  t.is(fs.statSync(file).ino, ino);
  // Other parts than the ones it was completed with, or an object replaced since: NoSuchUpload.
  const other = await s3Error(t, complete(key, id, [{ PartNumber: 7, ETag: md5(random(10)) }]));
  t.deepEqual(other, { name: 'NoSuchUpload', status: 404 });
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body }));
  const replaced = await s3Error(t, complete(key, id, [{ PartNumber: 7, ETag: e }]));
  t.deepEqual(replaced, { name: 'NoSuchUpload', status: 404 });
});

test('CompleteMultipartUpload errors: InvalidPartOrder, InvalidPart, EntityTooSmall, MalformedXML', async (t) => {
  const key = 'errors';
  const id = await create(key);
  const small = random(1000);
  const big = random(5 * MiB);
  const eSmall = await uploadPart(key, id, 1, small);
  const eBig = await uploadPart(key, id, 2, big);

  let e = await s3Error(t, complete(key, id, [{ PartNumber: 2, ETag: eBig }, { PartNumber: 1, ETag: eSmall }]));
  t.deepEqual(e, { name: 'InvalidPartOrder', status: 400 });
  e = await s3Error(t, complete(key, id, [{ PartNumber: 2, ETag: eBig }, { PartNumber: 2, ETag: eBig }]));
  t.is(e.name, 'InvalidPartOrder');
  e = await s3Error(t, complete(key, id, [{ PartNumber: 2, ETag: `"${'0'.repeat(32)}"` }]));
  t.deepEqual(e, { name: 'InvalidPart', status: 400 });
  e = await s3Error(t, complete(key, id, [{ PartNumber: 3, ETag: eBig }]));
  t.is(e.name, 'InvalidPart');
  e = await s3Error(t, complete(key, id, [{ PartNumber: 1, ETag: eSmall }, { PartNumber: 2, ETag: eBig }]));
  t.deepEqual(e, { name: 'EntityTooSmall', status: 400 });

  const url = objPath(B, key) + `?uploadId=${id}`;
  for (const body of ['<CompleteMultipartUpload><Part>', 'not xml at all', '<CompleteMultipartUpload></CompleteMultipartUpload>', '<Other/>', '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>']) {
    const r = await request(node.url, { method: 'POST', path: url, body });
    t.is(r.status, 400, body);
    t.is(xmlCode(r.body), 'MalformedXML', body);
  }
  const huge = await request(node.url, { method: 'POST', path: url, body: '<CompleteMultipartUpload>' + ' '.repeat(5 * MiB) });
  t.is(xmlCode(huge.body), 'MalformedXML');
  // Content-MD5 of the body, as on every S3 request that carries one: a mismatch or a malformed value completes nothing.
  const good = `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>${md5(big)}</ETag></Part></CompleteMultipartUpload>`;
  const badMd5 = await request(node.url, { method: 'POST', path: url, body: good, headers: { 'Content-MD5': createHash('md5').update('other').digest('base64') } });
  t.is(badMd5.status, 400);
  t.is(xmlCode(badMd5.body), 'BadDigest');
  const invalidMd5 = await request(node.url, { method: 'POST', path: url, body: good, headers: { 'Content-MD5': 'nope' } });
  t.is(invalidMd5.status, 400);
  t.is(xmlCode(invalidMd5.body), 'InvalidDigest');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(B, key) })).status, 404);

  // After all that the upload is intact and completes (raw XML: S3 namespace, entity-quoted ETag).
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Part><PartNumber>2</PartNumber><ETag>&quot;${md5(big)}&quot;</ETag><ChecksumCRC32>x</ChecksumCRC32></Part></CompleteMultipartUpload>`;
  const ok = await request(node.url, { method: 'POST', path: url, body: xml });
  t.is(ok.status, 200, ok.body.toString());
  t.deepEqual(xmlAll(ok.body, 'ETag'), [`"${multipartEtag([big])}"`]);
  t.deepEqual(xmlAll(ok.body, 'Key'), [key]);
});

test('UploadPart errors: NoSuchUpload, BadDigest, InvalidDigest, wrong key, bad part number', async (t) => {
  const key = 'part-errors';
  const id = await create(key);
  let e = await s3Error(t, uploadPart(key, '0mwwbogusbogusbogusbogus1', 1, random(10)));
  t.deepEqual(e, { name: 'NoSuchUpload', status: 404 });
  e = await s3Error(t, uploadPart(key, '../../etc', 1, random(10)));
  t.is(e.name, 'NoSuchUpload');
  e = await s3Error(t, uploadPart('other-key', id, 1, random(10)));
  t.is(e.name, 'NoSuchUpload');

  const body = random(1000);
  const url = objPath(B, key) + `?partNumber=1&uploadId=${id}`;
  let r = await request(node.url, { method: 'PUT', path: url, body, headers: { 'Content-MD5': createHash('md5').update('other').digest('base64') } });
  t.is(r.status, 400);
  t.is(xmlCode(r.body), 'BadDigest');
  r = await request(node.url, { method: 'PUT', path: url, body, headers: { 'Content-MD5': 'nope' } });
  t.is(xmlCode(r.body), 'InvalidDigest');
  r = await request(node.url, { method: 'PUT', path: url, body, headers: { 'Content-MD5': createHash('md5').update(body).digest('base64') } });
  t.is(r.status, 200);
  t.is(r.headers.etag, `"${md5(body)}"`);
  r = await request(node.url, { method: 'PUT', path: objPath(B, key) + `?partNumber=10001&uploadId=${id}`, body });
  t.is(r.status, 400);
  t.is(xmlCode(r.body), 'InvalidArgument');
  const parts = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: id }));
  t.deepEqual(parts.Parts!.map((p) => p.PartNumber), [1], 'a failed part upload leaves nothing');
});

test('UploadPart with the SDK default checksums (aws-chunked body with a trailer)', async (t) => {
  const client = s3Client(node.url, { sdkDefaultChecksums: true });
  try {
    const key = 'chunked';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
    const p1 = random(5 * MiB + 3);
    const p2 = random(777);
    const r1 = await client.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: p1 }));
    const r2 = await client.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 2, Body: p2 }));
    t.is(r1.ETag, `"${md5(p1)}"`);
    const done = await client.send(
      new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag }, { PartNumber: 2, ETag: r2.ETag }] } }),
    );
    t.is(done.ETag, `"${multipartEtag([p1, p2])}"`);
    t.is(sha256(await getBytes(key)), sha256(Buffer.concat([p1, p2])));
  } finally {
    client.destroy();
  }
});

test('abort: 204, folder gone, then NoSuchUpload everywhere', async (t) => {
  const key = 'aborted';
  const id = await create(key);
  await uploadPart(key, id, 1, random(1000));
  const r = await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: key, UploadId: id }));
  t.is(r.$metadata.httpStatusCode, 204);
  t.false(uploadDirs().includes(id));
  t.is((await s3Error(t, s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: id })))).name, 'NoSuchUpload');
  t.is((await s3Error(t, uploadPart(key, id, 2, random(10)))).name, 'NoSuchUpload');
  t.is((await s3Error(t, s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: key, UploadId: id })))).name, 'NoSuchUpload');
  const head = await request(node.url, { method: 'HEAD', path: objPath(B, key) });
  t.is(head.status, 404, 'no object appeared');
});

test('ListParts with max-parts and part-number-marker', async (t) => {
  const key = 'list-parts';
  const id = await create(key);
  const bodies = new Map<number, Buffer>();
  for (const n of [5, 1, 3, 2, 4]) {
    const b = random(100 + n);
    bodies.set(n, b);
    await uploadPart(key, id, n, b);
  }
  const p1 = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: id, MaxParts: 2 }));
  t.deepEqual(p1.Parts!.map((p) => p.PartNumber), [1, 2]);
  t.true(p1.IsTruncated);
  t.is(p1.NextPartNumberMarker, '2');
  t.is(p1.Parts![0]!.ETag, `"${md5(bodies.get(1)!)}"`);
  t.is(p1.Parts![0]!.Size, 101);
  t.true(p1.Parts![0]!.LastModified instanceof Date);
  const p2 = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: id, MaxParts: 2, PartNumberMarker: '2' }));
  t.deepEqual(p2.Parts!.map((p) => p.PartNumber), [3, 4]);
  const p3 = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: id, PartNumberMarker: '4' }));
  t.deepEqual(p3.Parts!.map((p) => p.PartNumber), [5]);
  t.false(p3.IsTruncated);
  await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: key, UploadId: id }));
});

test('ListMultipartUploads: order, prefix, delimiter, key-marker / upload-id-marker paging', async (t) => {
  const bucket = 'mpu-list';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const made: { key: string; id: string }[] = [];
  for (const key of ['b/2', 'a', 'b/1', 'a', 'c', 'b/1']) {
    const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    made.push({ key, id: r.UploadId! });
    await sleep(2); // initiation order within a key
  }
  const expected = [...made].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : made.indexOf(x) - made.indexOf(y)));
  const all = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  t.deepEqual(all.Uploads!.map((u) => [u.Key, u.UploadId]), expected.map((u) => [u.key, u.id]));
  t.false(all.IsTruncated);

  // Page by two.
  const seen: string[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  for (let page = 0; page < 10; page++) {
    const r = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: idMarker }));
    seen.push(...r.Uploads!.map((u) => u.UploadId!));
    if (!r.IsTruncated) break;
    keyMarker = r.NextKeyMarker;
    idMarker = r.NextUploadIdMarker;
  }
  t.deepEqual(seen, expected.map((u) => u.id));

  const pre = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'b/' }));
  t.deepEqual(pre.Uploads!.map((u) => u.Key), ['b/1', 'b/1', 'b/2']);
  const delim = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: '/' }));
  t.deepEqual(delim.Uploads!.map((u) => u.Key), ['a', 'a', 'c']);
  t.deepEqual(delim.CommonPrefixes!.map((c) => c.Prefix), ['b/']);
  const afterKey = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: 'b/1' }));
  t.deepEqual(afterKey.Uploads!.map((u) => u.Key), ['b/2', 'c']);
  for (const u of made) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.id }));
  t.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [], []);
});

test.serial('an upload survives a restart and completes after it', async (t) => {
  const key = 'restart/obj';
  const id = await create(key, { ContentType: 'text/plain' });
  const p1 = random(5 * MiB);
  const e1 = await uploadPart(key, id, 1, p1);
  await node.restart();
  s3.destroy();
  s3 = s3Client(node.url);
  const p2 = random(4321);
  const e2 = await uploadPart(key, id, 2, p2);
  const listed = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: id }));
  t.deepEqual(listed.Parts!.map((p) => p.ETag), [e1, e2]);
  t.is(await complete(key, id, [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }]), `"${multipartEtag([p1, p2])}"`);
  t.is(sha256(await getBytes(key)), sha256(Buffer.concat([p1, p2])));
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
  t.is(head.ContentType, 'text/plain');
});

test('abandoned uploads are removed at start and periodically (mpu.abandoned_age_s)', async (t) => {
  const n = await startNode({ name: 'mpu-age', mountpaths: 1, config: { mpu: { abandoned_age_s: 1 } } });
  const c = s3Client(n.url);
  try {
    await c.send(new CreateBucketCommand({ Bucket: 'aged' }));
    // Periodic: the sweeper runs every second once multipart is in use.
    const r1 = await c.send(new CreateMultipartUploadCommand({ Bucket: 'aged', Key: 'k' }));
    await sleep(3000);
    t.deepEqual((await c.send(new ListMultipartUploadsCommand({ Bucket: 'aged' }))).Uploads ?? [], []);
    t.is((await s3Error(t, c.send(new ListPartsCommand({ Bucket: 'aged', Key: 'k', UploadId: r1.UploadId! })))).name, 'NoSuchUpload');
    // At start.
    const r2 = await c.send(new CreateMultipartUploadCommand({ Bucket: 'aged', Key: 'k2' }));
    await n.kill('SIGKILL');
    await sleep(1500);
    await n.restart();
    c.destroy();
    const c2 = s3Client(n.url);
    t.is((await s3Error(t, c2.send(new ListPartsCommand({ Bucket: 'aged', Key: 'k2', UploadId: r2.UploadId! })))).name, 'NoSuchUpload');
    t.regex(n.log(), /mountpath [^\n]*removed 1 abandoned multipart upload/);
    c2.destroy();
  } finally {
    c.destroy();
    await n.stop();
  }
});

test.serial('kill -9 during CompleteMultipartUpload: afterwards the old object or the complete new one', async (t) => {
  const key = 'crash/obj';
  const old = random(1000);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: old }));
  const id = await create(key);
  const parts = [random(24 * MiB), random(24 * MiB), random(24 * MiB)];
  const etags = await Promise.all(parts.map((p, i) => uploadPart(key, id, i + 1, p)));
  const xml =
    '<CompleteMultipartUpload>' + etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('') + '</CompleteMultipartUpload>';
  const pending = request(node.url, { method: 'POST', path: objPath(B, key) + `?uploadId=${id}`, body: xml }).catch(() => undefined);
  await sleep(40);
  await node.kill('SIGKILL');
  await pending;
  await node.restart();
  s3.destroy();
  s3 = s3Client(node.url);
  const got = sha256(await getBytes(key));
  const whole = sha256(Buffer.concat(parts));
  t.true(got === sha256(old) || got === whole, 'old or new, never a mix');
  t.log(got === whole ? 'the completion had finished' : 'the old object survived');
  if (got !== whole) {
    // The upload is still there and completes now.
    t.is(await complete(key, id, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }))), `"${multipartEtag(parts)}"`);
    t.is(sha256(await getBytes(key)), whole);
  }
  const work = node.dirs.mountpaths.flatMap((mp) => walkFiles(path.join(mp, '@ais', B, '%wk')));
  t.deepEqual(work, [], 'no work files survive a restart');
});

test.serial('a part damaged on disk fails the completion (CRC32C) and publishes nothing', async (t) => {
  const key = 'damaged';
  const id = await create(key);
  const parts = [random(5 * MiB), random(1000)];
  const etags = await Promise.all(parts.map((p, i) => uploadPart(key, id, i + 1, p)));
  const file = node.dirs.mountpaths.map((mp) => path.join(mp, '@ais', B, '%mp', id, 'part.1')).find((f) => fs.existsSync(f))!;
  flipByte(file, 12345); // flipped, not overwritten: random data holds any given byte there 1 time in 256
  const e = await s3Error(t, complete(key, id, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }))));
  t.deepEqual(e, { name: 'InternalError', status: 500 });
  const head = await request(node.url, { method: 'HEAD', path: objPath(B, key) });
  t.is(head.status, 404);
  const work = node.dirs.mountpaths.flatMap((mp) => walkFiles(path.join(mp, '@ais', B, '%wk')));
  t.deepEqual(work.filter((f) => path.basename(f).startsWith('mpu.')), [], 'the work file is removed');
  // Re-uploading the damaged part repairs the upload.
  etags[0] = await uploadPart(key, id, 1, parts[0]!);
  t.is(await complete(key, id, etags.map((ETag, i) => ({ PartNumber: i + 1, ETag }))), `"${multipartEtag(parts)}"`);
});

test('hostile and over-long keys complete to the right object', async (t) => {
  for (const key of ['x'.repeat(300) + '/tail', 'dir/../%2E/.', 'ünï cødé/ключ']) {
    const id = await create(key);
    const body = random(2000);
    const e = await uploadPart(key, id, 1, body);
    await complete(key, id, [{ PartNumber: 1, ETag: e }]);
    t.is(sha256(await getBytes(key)), sha256(body), key);
    t.is(sha256(await getBytes(key, 1)), sha256(body), key);
  }
});
