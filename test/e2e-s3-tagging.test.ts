// End to end, one real aisnode: object tagging through @aws-sdk/client-s3 and raw HTTP — Put / Get /
// DeleteObjectTagging, x-amz-tagging on PUT, CopyObject (x-amz-tagging-directive) and
// CreateMultipartUpload, x-amz-tagging-count on GET/HEAD, S3's limits (InvalidTag, MalformedXML) with
// nothing changed on error — and the user-metadata limit (MetadataTooLarge).
import test from 'ava';
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
  type Tag,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, objPath, random, sha256, type AisNode } from './helpers/node';

const B = 'tags';
let node: AisNode;
let s3: S3Client;

test.before(async () => {
  node = await startNode({ name: 'tagging', config: { io: { fsync_put: false } } });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

async function s3Error(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return { name: err.name, status: err.$metadata.httpStatusCode };
    throw err;
  }
  return { name: 'ok', status: 200 };
}

async function tagsOf(key: string): Promise<Tag[]> {
  const r = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: key }));
  return r.TagSet ?? [];
}

const sorted = (tags: Tag[]): Tag[] => [...tags].sort((a, b) => (a.Key! < b.Key! ? -1 : 1));

test('PutObjectTagging / GetObjectTagging / DeleteObjectTagging; x-amz-tagging-count on HEAD and GET; bytes untouched', async (t) => {
  const body = random(3 * (1 << 20) + 5);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'obj', Body: body, Metadata: { keep: 'me' } }));
  t.deepEqual(await tagsOf('obj'), []);
  t.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'obj' }))).TagCount, undefined);
  const set: Tag[] = [
    { Key: 'project', Value: 'tais' },
    { Key: 'empty', Value: '' },
    { Key: 'ünïcødé key/with:chars', Value: 'välue & <xml> "quoted"' },
  ];
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'obj', Tagging: { TagSet: set } }));
  t.deepEqual(sorted(await tagsOf('obj')), sorted(set));
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'obj' }));
  t.is(head.TagCount, 3);
  t.deepEqual(head.Metadata, { keep: 'me' });
  const get = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'obj' }));
  t.is(get.TagCount, 3);
  t.is(sha256(Buffer.from(await get.Body!.transformToByteArray())), sha256(body));
  // A new set replaces the old one whole.
  await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'obj', Tagging: { TagSet: [{ Key: 'only', Value: '1' }] } }));
  t.deepEqual(await tagsOf('obj'), [{ Key: 'only', Value: '1' }]);
  const del = await request(node.url, { method: 'DELETE', path: objPath(B, 'obj') + '?tagging' });
  t.is(del.status, 204);
  t.deepEqual(await tagsOf('obj'), []);
  t.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'obj' }))).TagCount, undefined);
  await s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'obj' })); // idempotent
  // The object's other metadata and bytes survive tag changes.
  const after = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'obj' }));
  t.deepEqual(after.Metadata, { keep: 'me' });
  t.is(sha256(Buffer.from(await after.Body!.transformToByteArray())), sha256(body));
  // A missing object: NoSuchKey for all three.
  t.deepEqual(await s3Error(s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'nope' }))), { name: 'NoSuchKey', status: 404 });
  t.deepEqual(await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'nope', Tagging: { TagSet: [] } }))), { name: 'NoSuchKey', status: 404 });
  t.deepEqual(await s3Error(s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'nope' }))), { name: 'NoSuchKey', status: 404 });
});

test('limits: InvalidTag and MalformedXML leave the tags as they were', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'lim', Body: 'x', Tagging: 'a=1' }));
  const put = (TagSet: Tag[]): Promise<{ name: string; status: number | undefined }> => s3Error(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'lim', Tagging: { TagSet } })));
  const many = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  t.deepEqual(await put(many), { name: 'InvalidTag', status: 400 });
  t.deepEqual(await put([{ Key: 'k'.repeat(129), Value: 'v' }]), { name: 'InvalidTag', status: 400 });
  t.deepEqual(await put([{ Key: 'k', Value: 'v'.repeat(257) }]), { name: 'InvalidTag', status: 400 });
  t.deepEqual(await put([{ Key: 'd', Value: '1' }, { Key: 'd', Value: '2' }]), { name: 'InvalidTag', status: 400 });
  t.deepEqual(await put([{ Key: 'aws:system', Value: '1' }]), { name: 'InvalidTag', status: 400 });
  t.deepEqual(await put([{ Key: '', Value: '1' }]), { name: 'InvalidTag', status: 400 });
  for (const bad of ['<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>', '<Tagging></Tagging>', '<Nope/>', 'not xml', '<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet>', '']) {
    const r = await request(node.url, { method: 'PUT', path: objPath(B, 'lim') + '?tagging', body: bad });
    t.is(r.status, 400, bad);
    t.is(xmlCode(r.body), 'MalformedXML', bad);
  }
  // Over the 64 KiB body cap (declared length), a Content-MD5 that does not match, a malformed one.
  const tagPath = objPath(B, 'lim') + '?tagging';
  const body = '<Tagging><TagSet><Tag><Key>z</Key><Value>9</Value></Tag></TagSet></Tagging>';
  const big = await request(node.url, { method: 'PUT', path: tagPath, body: body + ' '.repeat(64 << 10) });
  t.is(big.status, 400);
  t.is(xmlCode(big.body), 'MalformedXML');
  const badMd5 = await request(node.url, { method: 'PUT', path: tagPath, body, headers: { 'Content-MD5': createHash('md5').update('other').digest('base64') } });
  t.is(badMd5.status, 400);
  t.is(xmlCode(badMd5.body), 'BadDigest');
  const invalidMd5 = await request(node.url, { method: 'PUT', path: tagPath, body, headers: { 'Content-MD5': 'nope' } });
  t.is(invalidMd5.status, 400);
  t.is(xmlCode(invalidMd5.body), 'InvalidDigest');
  t.deepEqual(await tagsOf('lim'), [{ Key: 'a', Value: '1' }]);
  // At the limits exactly: 10 tags; 128-character keys and 256-character values (characters, not bytes).
  const ten = Array.from({ length: 10 }, (_, i) => ({ Key: `key-${i}`, Value: `value-${i}` }));
  t.deepEqual(await put(ten), { name: 'ok', status: 200 });
  t.deepEqual(sorted(await tagsOf('lim')), sorted(ten));
  const long = [{ Key: 'é'.repeat(128), Value: 'ü'.repeat(256) }];
  t.deepEqual(await put(long), { name: 'ok', status: 200 });
  t.deepEqual(await tagsOf('lim'), long);
  // Ours, not S3's: tags live in the object's xattr (one 4 KiB block on ext4 for all its metadata), so
  // the largest sets S3 allows (up to ~15 KB of UTF-8) are refused as MetadataTooLarge — tags unchanged.
  const full = Array.from({ length: 10 }, (_, i) => ({ Key: `${i}`.padEnd(128, 'é'), Value: 'ü'.repeat(256) }));
  t.deepEqual(await put(full), { name: 'MetadataTooLarge', status: 400 });
  t.deepEqual(await tagsOf('lim'), long);
});

test('x-amz-tagging on PUT, on CopyObject (COPY / REPLACE directive) and CreateMultipartUpload', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'source', Tagging: 'color=blue&note=two%20words&plus=a%2Bb' }));
  const want = [
    { Key: 'color', Value: 'blue' },
    { Key: 'note', Value: 'two words' },
    { Key: 'plus', Value: 'a+b' },
  ];
  t.deepEqual(sorted(await tagsOf('src')), want);
  // CopyObject: the source's tags by default, the request's with REPLACE.
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copied', CopySource: `${B}/src` }));
  t.deepEqual(sorted(await tagsOf('copied')), want);
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'replaced', CopySource: `${B}/src`, TaggingDirective: 'REPLACE', Tagging: 'fresh=1' }));
  t.deepEqual(await tagsOf('replaced'), [{ Key: 'fresh', Value: '1' }]);
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'untagged', CopySource: `${B}/src`, TaggingDirective: 'REPLACE' }));
  t.deepEqual(await tagsOf('untagged'), []);
  const badDirective = await request(node.url, { method: 'PUT', path: objPath(B, 'x'), headers: { 'x-amz-copy-source': `/${B}/src`, 'x-amz-tagging-directive': 'MERGE' } });
  t.is(badDirective.status, 400);
  t.is(xmlCode(badDirective.body), 'InvalidArgument');
  // Multipart: tags given at Create are the object's.
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mpu', Tagging: 'from=create' }));
  const p = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mpu', UploadId, PartNumber: 1, Body: 'part' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
  t.deepEqual(await tagsOf('mpu'), [{ Key: 'from', Value: 'create' }]);
  t.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'mpu' }))).TagCount, 1);
  // A bad x-amz-tagging stores nothing.
  const bad = await request(node.url, { method: 'PUT', path: objPath(B, 'never'), body: 'x', headers: { 'x-amz-tagging': 'a=1&a=2' } });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'InvalidTag');
  const tooMany = await request(node.url, { method: 'PUT', path: objPath(B, 'never'), body: 'x', headers: { 'x-amz-tagging': Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&') } });
  t.is(xmlCode(tooMany.body), 'InvalidTag');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(B, 'never') })).status, 404);
});

test('user metadata over 2 KiB is MetadataTooLarge (400) and stores nothing; exactly 2 KiB is fine', async (t) => {
  const over = await request(node.url, { method: 'PUT', path: objPath(B, 'meta-over'), body: 'x', headers: { 'x-amz-meta-big': 'v'.repeat(2049 - 3) } });
  t.is(over.status, 400);
  t.is(xmlCode(over.body), 'MetadataTooLarge');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(B, 'meta-over') })).status, 404);
  const mpu = await request(node.url, { method: 'POST', path: objPath(B, 'meta-over') + '?uploads', headers: { 'x-amz-meta-a': 'v'.repeat(1500), 'x-amz-meta-b': 'w'.repeat(600) } });
  t.is(mpu.status, 400);
  t.is(xmlCode(mpu.body), 'MetadataTooLarge');
  const exact = await request(node.url, { method: 'PUT', path: objPath(B, 'meta-exact'), body: 'x', headers: { 'x-amz-meta-big': 'v'.repeat(2048 - 3) } });
  t.is(exact.status, 200);
  t.is((await request(node.url, { method: 'HEAD', path: objPath(B, 'meta-exact') })).headers['x-amz-meta-big'], 'v'.repeat(2045));
});
