// End to end, a cluster of one proxy and three targets: a bucket of 10,000 objects spread over the
// targets lists page by page (V2 tokens, V1 markers, with and without a delimiter) as exactly the one
// sorted list; multipart uploads run through different proxies, and ListMultipartUploads merges the
// uploads in progress on every target.
import test from 'ava';
import http from 'node:http';
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  ListObjectsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  ListMultipartUploadsCommand,
  AbortMultipartUploadCommand,
  GetObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startCluster, type Cluster } from './helpers/cluster';
import { s3Client, compareUtf8, random, md5 } from './helpers/node';

const B = 'ten-thousand';
const N = 10_000;
let c: Cluster;
let s3: S3Client;
const keys: string[] = [];
for (let i = 0; i < N; i++) keys.push(`shard-${String(i % 40).padStart(2, '0')}/sample-${String(i).padStart(5, '0')}.bin`);
const WANT = [...keys].sort(compareUtf8);

/** Raw keep-alive PUTs (16 in flight): 10,000 small objects in a few seconds. */
async function putAll(base: string, bucket: string, names: string[]): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const u = new URL(base);
  let next = 0;
  const one = (key: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(`body of ${key}`);
      const req = http.request({ host: u.hostname, port: u.port, method: 'PUT', path: `/s3/${bucket}/${key}`, agent, headers: { 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${key}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < names.length) await one(names[next++]!);
    }),
  );
  agent.destroy();
}

test.before(async () => {
  c = await startCluster({ targets: 3, name: 'list10k' });
  s3 = s3Client(c.primary.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await putAll(c.primary.url, B, keys);
});

test.after.always(async () => {
  await c?.stop();
});

test.serial('ListObjectsV2 pages of 1000 and 999 give the one sorted list of 10,000 names', async (t) => {
  for (const max of [1000, 999]) {
    const got: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: max, ContinuationToken: token }));
      got.push(...(r.Contents ?? []).map((o) => o.Key!));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
      pages++;
    } while (token);
    t.is(got.length, N);
    t.deepEqual(got, WANT, `MaxKeys ${max}`);
    t.is(pages, Math.ceil(N / max));
  }
});

test.serial('ListObjects v1 with markers, and a prefix + delimiter walk, agree with the sorted list', async (t) => {
  const got: string[] = [];
  let marker: string | undefined;
  do {
    const r = await s3.send(new ListObjectsCommand({ Bucket: B, MaxKeys: 700, Marker: marker }));
    got.push(...(r.Contents ?? []).map((o) => o.Key!));
    // Without a delimiter S3 sends no NextMarker: the next marker is the last key listed.
    marker = r.IsTruncated ? (r.NextMarker ?? got[got.length - 1]) : undefined;
  } while (marker);
  t.deepEqual(got, WANT);
  const top = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/', MaxKeys: 7 }));
  t.deepEqual(
    (top.CommonPrefixes ?? []).map((p) => p.Prefix),
    Array.from({ length: 7 }, (_, i) => `shard-${String(i).padStart(2, '0')}/`),
  );
  const inShard = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'shard-13/', MaxKeys: 1000 }));
  t.deepEqual(
    (inShard.Contents ?? []).map((o) => o.Key),
    WANT.filter((k) => k.startsWith('shard-13/')),
  );
});

test.serial('multipart uploads through different proxies; ListMultipartUploads merges every target', async (t) => {
  const p2 = await c.addProxy();
  const s3b = s3Client(p2.url);
  const part = random(5 * 1024 * 1024);
  const last = random(1234);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mpu/big' }));
  const e1 = await s3b.send(new UploadPartCommand({ Bucket: B, Key: 'mpu/big', UploadId, PartNumber: 1, Body: part }));
  const e2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mpu/big', UploadId, PartNumber: 2, Body: last }));
  // Uploads in progress for several keys (they land on different targets): all listed, in key order.
  const pending: { Key: string; UploadId: string }[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await s3b.send(new CreateMultipartUploadCommand({ Bucket: B, Key: `pending/${i}` }));
    pending.push({ Key: `pending/${i}`, UploadId: r.UploadId! });
  }
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: 'pending/' }));
  t.deepEqual(
    (listed.Uploads ?? []).map((u) => u.Key),
    pending.map((p) => p.Key).sort(compareUtf8),
  );
  const paged = await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: 'pending/', MaxUploads: 5 }));
  t.is(paged.Uploads?.length, 5);
  t.true(paged.IsTruncated);
  await s3b.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mpu/big', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
  const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'mpu/big' }));
  const got = Buffer.from(await g.Body!.transformToByteArray());
  t.is(md5(got), md5(Buffer.concat([part, last])));
  t.regex(g.ETag!, /-2"$/);
  for (const p of pending) await s3b.send(new AbortMultipartUploadCommand({ Bucket: B, ...p }));
  const none = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
  t.is((none.Uploads ?? []).length, 0);
});
