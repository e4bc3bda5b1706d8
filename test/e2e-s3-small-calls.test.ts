// End to end: the small calls clients make — ACLs, ListObjectVersions on unversioned buckets, tagging —
// and that the rest of the recognised-but-unimplemented calls still answer 501.
import test from 'ava';
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketTaggingCommand,
  GetObjectAclCommand,
  GetObjectTaggingCommand,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, xmlAll, objPath, mapLimit, md5, type AisNode } from './helpers/node';

let node: AisNode;
let s3: S3Client;
const B = 'small';
const KEYS = ['a', 'b/1', 'b/2', 'c d', 'e&f', 'z'];

test.before(async () => {
  node = await startNode({ name: 'small' });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await mapLimit(KEYS, 8, (k) => s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: `data ${k}` })));
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

test('GetBucketAcl / GetObjectAcl: the owner has FULL_CONTROL', async (t) => {
  for (const out of [await s3.send(new GetBucketAclCommand({ Bucket: B })), await s3.send(new GetObjectAclCommand({ Bucket: B, Key: 'b/1' }))]) {
    t.is(out.Owner?.ID, 'tais');
    t.is(out.Grants?.length, 1);
    t.is(out.Grants![0]!.Permission, 'FULL_CONTROL');
    t.is(out.Grants![0]!.Grantee?.Type, 'CanonicalUser');
    t.is(out.Grants![0]!.Grantee?.ID, 'tais');
  }
  const raw = await request(node.url, { method: 'GET', path: `/s3/${B}?acl` });
  t.is(raw.status, 200);
  t.true(raw.body.toString().includes('<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'));
  t.deepEqual(await s3Error(s3.send(new GetObjectAclCommand({ Bucket: B, Key: 'nope' }))), { name: 'NoSuchKey', status: 404 });
  t.deepEqual(await s3Error(s3.send(new GetBucketAclCommand({ Bucket: 'no-such-bucket' }))), { name: 'NoSuchBucket', status: 404 });
});

test('PutBucketAcl / PutObjectAcl: canned "private" accepted, anything else NotImplemented', async (t) => {
  await s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'private' }));
  await s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'a', ACL: 'private' }));
  t.deepEqual(await s3Error(s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'public-read' }))), { name: 'NotImplemented', status: 501 });
  t.deepEqual(await s3Error(s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'a', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }))), {
    name: 'NotImplemented',
    status: 501,
  });
  const body = '<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList/></AccessControlPolicy>';
  const r = await request(node.url, { method: 'PUT', path: `/s3/${B}?acl`, headers: { 'content-length': String(body.length) }, body });
  t.is(r.status, 501);
  t.is(xmlCode(r.body), 'NotImplemented');
  t.deepEqual(await s3Error(s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'nope', ACL: 'private' }))), { name: 'NoSuchKey', status: 404 });
  // The object is untouched by any of it.
  const g = await request(node.url, { method: 'GET', path: objPath(B, 'a') });
  t.is(g.body.toString(), 'data a');
});

test('ListObjectVersions: every object once, version null, latest, no delete markers', async (t) => {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: B }));
  t.deepEqual(out.Versions?.map((v) => v.Key), KEYS);
  for (const v of out.Versions!) {
    t.is(v.VersionId, 'null');
    t.true(v.IsLatest);
    t.is(v.ETag, `"${md5(Buffer.from(`data ${v.Key}`))}"`);
    t.is(v.Size, `data ${v.Key}`.length);
    t.is(v.StorageClass, 'STANDARD');
    t.truthy(v.LastModified);
  }
  t.is(out.DeleteMarkers, undefined);
  t.false(out.IsTruncated);
  // Delimiter and prefix.
  const d = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Delimiter: '/' }));
  t.deepEqual(d.Versions?.map((v) => v.Key), ['a', 'c d', 'e&f', 'z']);
  t.deepEqual(d.CommonPrefixes?.map((p) => p.Prefix), ['b/']);
  const p = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'b/' }));
  t.deepEqual(p.Versions?.map((v) => v.Key), ['b/1', 'b/2']);
});

test('ListObjectVersions pages with key-marker / version-id-marker', async (t) => {
  const seen: string[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (let i = 0; i < 10; i++) {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: B, MaxKeys: 4, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    seen.push(...out.Versions!.map((v) => v.Key!));
    if (!out.IsTruncated) break;
    t.is(out.NextVersionIdMarker, 'null');
    keyMarker = out.NextKeyMarker;
    versionMarker = out.NextVersionIdMarker;
  }
  t.deepEqual(seen, KEYS);
  const raw = await request(node.url, { method: 'GET', path: `/s3/${B}?versions&max-keys=2&encoding-type=url&key-marker=b%2F2` });
  t.is(raw.status, 200);
  t.deepEqual(xmlAll(raw.body, 'Key'), ['c%20d', 'e%26f']);
  t.deepEqual(xmlAll(raw.body, 'NextKeyMarker'), ['e%26f']);
  const bad = await request(node.url, { method: 'GET', path: `/s3/${B}?versions&version-id-marker=null` });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'InvalidArgument');
  const nb = await request(node.url, { method: 'GET', path: `/s3/no-such-bucket?versions` });
  t.is(nb.status, 404);
  t.is(xmlCode(nb.body), 'NoSuchBucket');
});

test('tagging: an untagged object has an empty TagSet, buckets answer NoSuchTagSet', async (t) => {
  const o = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'a' }));
  t.deepEqual(o.TagSet ?? [], []);
  t.deepEqual(await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket: B }))), { name: 'NoSuchTagSet', status: 404 });
  t.deepEqual(await s3Error(s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'nope' }))), { name: 'NoSuchKey', status: 404 });
  const raw = await request(node.url, { method: 'GET', path: objPath(B, 'a') + '?tagging' });
  t.is(raw.status, 200);
  t.true(raw.body.toString().includes('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet></TagSet></Tagging>'));
});

test('everything else recognised stays 501 NotImplemented', async (t) => {
  for (const [method, path] of [
    ['GET', `/s3/${B}?cors`],
    ['PUT', `/s3/${B}?tagging`],
    ['GET', `/s3/${B}?policy`],
    ['GET', objPath(B, 'a') + '?retention'],
  ] as const) {
    const r = await request(node.url, { method, path, headers: { 'content-length': '0' } });
    t.is(r.status, 501, `${method} ${path}`);
    t.is(xmlCode(r.body), 'NotImplemented');
  }
});
