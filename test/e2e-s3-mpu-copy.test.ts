// End to end on a cluster (a proxy and three targets, each its own aisnode): UploadPartCopy through
// @aws-sdk/client-s3 — whole sources and x-amz-copy-source-range, sources on the upload's target and on
// another one (computed by HRW from the Smap), the copy-source conditions, the errors S3 lists, a part
// copied into an upload with a flexible checksum — with the completed object's bytes checked; and the
// source's tags carried by a CopyObject across targets.
import test from 'ava';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { startCluster, hrwWinner, type Cluster } from './helpers/cluster';
import { s3Client, request, xmlCode, md5, random, objPath } from './helpers/node';
import { objectUname } from '../src/cluster/hrw';

const MiB = 1 << 20;
const B = 'upc';
let c: Cluster;
let s3: S3Client;
let ownerOf: (key: string) => string;

test.before(async () => {
  c = await startCluster({ proxies: 1, targets: 3, name: 'upc', config: { io: { fsync_put: false } } });
  s3 = s3Client(c.primary.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  const smap = await c.smap();
  const cands: [string, bigint][] = Object.values(smap.tmap).map((s) => [s.daemon_id, BigInt(s.id_digest)]);
  ownerOf = (key) => hrwWinner(cands, objectUname('ais', B, key));
});

test.after.always(async () => {
  s3?.destroy();
  await c?.stop();
});

/** A key named `${prefix}-<i>` whose owner is (same=true) or is not (same=false) the owner of `other`. */
function keyOwned(prefix: string, other: string, same: boolean): string {
  for (let i = 0; ; i++) if ((ownerOf(`${prefix}-${i}`) === ownerOf(other)) === same) return `${prefix}-${i}`;
}

async function s3Error(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return { name: err.name, status: err.$metadata.httpStatusCode };
    throw err;
  }
  return { name: 'ok', status: 200 };
}

async function put(key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body }));
}

async function getBytes(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function multipartEtag(parts: readonly Buffer[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `"${h.digest('hex')}-${parts.length}"`;
}

test('parts copied from local and remote sources, whole and ranged, complete to the right bytes', async (t) => {
  const dst = 'assembled/obj';
  const local = keyOwned('src-local', dst, true);
  const remote = keyOwned('src-remote', dst, false);
  const a = random(6 * MiB + 123);
  const b = random(9 * MiB + 7);
  await Promise.all([put(local, a), put(remote, b)]);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: dst, ContentType: 'application/x-joined' }));
  const tail = random(4321);
  const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 1, CopySource: `${B}/${local}` }));
  const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 2, CopySource: `${B}/${remote}` }));
  const p3 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 3, CopySource: `${B}/${remote}`, CopySourceRange: `bytes=${MiB}-${7 * MiB - 1}` }));
  const p4 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 4, CopySource: `/${B}/${local}`, CopySourceRange: 'bytes=5-5242884' }));
  const p5 = await s3.send(new UploadPartCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 5, Body: tail }));
  const bodies = [a, b, b.subarray(MiB, 7 * MiB), a.subarray(5, 5242885), tail];
  const etags = [p1.CopyPartResult?.ETag, p2.CopyPartResult?.ETag, p3.CopyPartResult?.ETag, p4.CopyPartResult?.ETag, p5.ETag];
  t.deepEqual(etags, bodies.map((x) => `"${md5(x)}"`));
  t.truthy(p1.CopyPartResult?.LastModified);
  // The copied parts are parts like the others: listed with their size and MD5 ETag.
  const lp = await s3.send(new ListPartsCommand({ Bucket: B, Key: dst, UploadId }));
  t.deepEqual(
    lp.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
    bodies.map((x, i) => [i + 1, x.length, `"${md5(x)}"`]),
  );
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: dst, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  t.is(done.ETag, multipartEtag(bodies));
  const got = await getBytes(dst);
  t.is(got.length, bodies.reduce((n, x) => n + x.length, 0));
  t.true(got.equals(Buffer.concat(bodies)));
});

test('errors: bad or unsatisfiable range, missing source, unknown upload, failed copy-source conditions — no part stored', async (t) => {
  const dst = 'errors/obj';
  const local = keyOwned('err-local', dst, true);
  const remote = keyOwned('err-remote', dst, false);
  const body = random(1000);
  await Promise.all([put(local, body), put(remote, body)]);
  const etag = `"${md5(body)}"`;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: dst }));
  const copy = (source: string, extra: Record<string, unknown> = {}): Promise<{ name: string; status: number | undefined }> =>
    s3Error(s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 1, CopySource: `${B}/${source}`, ...extra })));
  for (const src of [local, remote]) {
    t.deepEqual(await copy(src, { CopySourceRange: 'bytes=10-5' }), { name: 'InvalidArgument', status: 400 }, `reversed range, ${src}`);
    t.deepEqual(await copy(src, { CopySourceRange: 'bytes=0-' }), { name: 'InvalidArgument', status: 400 }, `open range, ${src}`);
    t.deepEqual(await copy(src, { CopySourceRange: 'bytes=0-1000' }), { name: 'InvalidRange', status: 416 }, `past the end, ${src}`);
    t.deepEqual(await copy(src, { CopySourceRange: 'bytes=2000-3000' }), { name: 'InvalidRange', status: 416 }, `after the end, ${src}`);
    t.deepEqual(await copy(src, { CopySourceIfMatch: '"0123"' }), { name: 'PreconditionFailed', status: 412 }, `If-Match, ${src}`);
    t.deepEqual(await copy(src, { CopySourceIfNoneMatch: etag }), { name: 'PreconditionFailed', status: 412 }, `If-None-Match, ${src}`);
    t.deepEqual(await copy(src, { CopySourceIfUnmodifiedSince: new Date(Date.now() - 3600_000) }), { name: 'PreconditionFailed', status: 412 }, `If-Unmodified-Since, ${src}`);
  }
  t.deepEqual(await copy(keyOwned('missing-local', dst, true)), { name: 'NoSuchKey', status: 404 });
  t.deepEqual(await copy(keyOwned('missing-remote', dst, false)), { name: 'NoSuchKey', status: 404 });
  t.deepEqual(await s3Error(s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 1, CopySource: `no-such-bucket/${local}` }))), { name: 'NoSuchBucket', status: 404 });
  t.deepEqual(
    await s3Error(s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId: '0000000000AAAAAAAAAAAAAAAA', PartNumber: 1, CopySource: `${B}/${local}` }))),
    { name: 'NoSuchUpload', status: 404 },
  );
  // Nothing was stored by any failed copy.
  const lp = await s3.send(new ListPartsCommand({ Bucket: B, Key: dst, UploadId }));
  t.is(lp.Parts?.length ?? 0, 0);
  // Conditions that hold copy the part; a range of one byte is fine.
  const ok = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 2, CopySource: `${B}/${remote}`, CopySourceIfMatch: etag, CopySourceRange: 'bytes=999-999' }));
  t.is(ok.CopyPartResult?.ETag, `"${md5(body.subarray(999))}"`);
  // Raw HTTP: the answer is CopyPartResult XML.
  const raw = await request(c.primary.url, {
    method: 'PUT',
    path: `${objPath(B, dst)}?partNumber=3&uploadId=${UploadId}`,
    headers: { 'x-amz-copy-source': `/${B}/${local}`, 'x-amz-copy-source-range': 'bytes=0-9' },
  });
  t.is(raw.status, 200);
  t.regex(raw.body.toString(), /^<\?xml[^>]*>\s*<CopyPartResult[^>]*><LastModified>[^<]+<\/LastModified><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/CopyPartResult>$/);
  t.is(xmlCode(raw.body), '');
});

test('a part copied into an upload with a flexible checksum carries it; Complete checks it', async (t) => {
  const dst = 'crc/obj';
  const remote = keyOwned('crc-remote', dst, false);
  const local = keyOwned('crc-local', dst, true);
  const x = random(5 * MiB + 1);
  const y = random(777);
  await Promise.all([put(remote, x), put(local, y)]);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: dst, ChecksumAlgorithm: 'CRC32' }));
  const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 1, CopySource: `${B}/${remote}` }));
  const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: dst, UploadId, PartNumber: 2, CopySource: `${B}/${local}` }));
  const crc32 = (buf: Buffer): string => {
    const r = Buffer.alloc(4);
    r.writeUInt32BE(zlib.crc32(buf) >>> 0); // CRC-32/ISO-HDLC, S3's CRC32
    return r.toString('base64');
  };
  t.is(p1.CopyPartResult?.ChecksumCRC32, crc32(x));
  t.is(p2.CopyPartResult?.ChecksumCRC32, crc32(y));
  const parts = [
    { PartNumber: 1, ETag: p1.CopyPartResult!.ETag!, ChecksumCRC32: p1.CopyPartResult!.ChecksumCRC32! },
    { PartNumber: 2, ETag: p2.CopyPartResult!.ETag!, ChecksumCRC32: p2.CopyPartResult!.ChecksumCRC32! },
  ];
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: dst, UploadId, MultipartUpload: { Parts: parts } }));
  // The result names the object's checksum: CRC32 of the part CRC32s, "-2", composite.
  const composite = Buffer.alloc(4);
  composite.writeUInt32BE(zlib.crc32(Buffer.concat(parts.map((p) => Buffer.from(p.ChecksumCRC32, 'base64')))) >>> 0);
  t.is(done.ChecksumCRC32, `${composite.toString('base64')}-2`);
  t.is(done.ChecksumType, 'COMPOSITE');
  t.true((await getBytes(dst)).equals(Buffer.concat([x, y])));
});

test('CopyObject across targets carries the source tags (COPY) or the request tags (REPLACE)', async (t) => {
  const src = 'tagged-src';
  const dst = keyOwned('tagged-dst', src, false);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: src, Body: random(2 * MiB), Tagging: 'k1=v1&k2=two%20words' }));
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}` }));
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: dst }));
  t.deepEqual(tags.TagSet, [{ Key: 'k1', Value: 'v1' }, { Key: 'k2', Value: 'two words' }]);
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}`, TaggingDirective: 'REPLACE', Tagging: 'new=1' }));
  t.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: dst }))).TagSet, [{ Key: 'new', Value: '1' }]);
  // An untagged source copies no tags.
  const plain = keyOwned('plain-src', dst, false);
  await put(plain, random(10));
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${plain}` }));
  t.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: dst }))).TagSet ?? [], []);
});

test('CopyObject across targets keeps the source checksum algorithm, or computes the one asked for', async (t) => {
  const src = 'flex-src';
  const dst = keyOwned('flex-dst', src, false);
  const body = random(3 * MiB + 3);
  const sha1 = createHash('sha1').update(body).digest('base64');
  await s3.send(new PutObjectCommand({ Bucket: B, Key: src, Body: body, ChecksumAlgorithm: 'SHA1' }));
  const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}` }));
  t.is(r.CopyObjectResult?.ChecksumSHA1, sha1);
  const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: dst, ChecksumMode: 'ENABLED' }));
  t.is(h.ChecksumSHA1, sha1);
  t.is(h.ChecksumType, 'FULL_OBJECT');
  const r2 = await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}`, ChecksumAlgorithm: 'SHA256' }));
  const sha256b64 = createHash('sha256').update(body).digest('base64');
  t.is(r2.CopyObjectResult?.ChecksumSHA256, sha256b64);
  t.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: dst, ChecksumMode: 'ENABLED' }))).ChecksumSHA256, sha256b64);
  // A source without a flexible checksum gives a copy without one.
  const plain = keyOwned('flex-plain', dst, false);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: plain, Body: body }));
  const r3 = await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${plain}` }));
  t.is(r3.CopyObjectResult?.ChecksumSHA1, undefined);
  t.is((await s3.send(new HeadObjectCommand({ Bucket: B, Key: dst, ChecksumMode: 'ENABLED' }))).ChecksumSHA1, undefined);
});
