// End to end on a playground-shaped cluster (one proxy, three targets): @aws-sdk/lib-storage's managed
// Upload — 40 MiB in 5 MiB parts with 4 in flight, a stream of unknown length at the SDK's default
// flexible checksums, a body smaller than one part (a plain PutObject), and an upload aborted midway —
// with the bytes read back and compared.
import test from 'ava';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startCluster, type Cluster } from './helpers/cluster';
import { s3Client, sha256, md5, random } from './helpers/node';
import { createHash } from 'node:crypto';

const MiB = 1 << 20;
const B = 'managed';
let c: Cluster;
let s3: S3Client;
let sdkDefaults: S3Client;

test.before(async () => {
  c = await startCluster({ proxies: 1, targets: 3, name: 'libstor', config: { io: { fsync_put: false } } });
  s3 = s3Client(c.primary.url);
  sdkDefaults = s3Client(c.primary.url, { sdkDefaultChecksums: true });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after.always(async () => {
  s3?.destroy();
  sdkDefaults?.destroy();
  await c?.stop();
});

async function readBack(key: string): Promise<Buffer> {
  const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  return Buffer.from(await g.Body!.transformToByteArray());
}

function multipartEtag(body: Buffer, partSize: number): string {
  const h = createHash('md5');
  let n = 0;
  for (let off = 0; off < body.length; off += partSize, n++) h.update(createHash('md5').update(body.subarray(off, off + partSize)).digest());
  return `"${h.digest('hex')}-${n}"`;
}

test('Upload: 40 MiB buffer, 5 MiB parts, queueSize 4 → multipart object with the right bytes and ETag', async (t) => {
  const body = random(40 * MiB);
  const up = new Upload({ client: s3, params: { Bucket: B, Key: 'big/forty', Body: body, ContentType: 'application/x-forty' }, partSize: 5 * MiB, queueSize: 4 });
  const seen: number[] = [];
  up.on('httpUploadProgress', (p) => seen.push(p.loaded ?? 0));
  const out = await up.done();
  t.is(out.ETag, multipartEtag(body, 5 * MiB));
  t.is(seen[seen.length - 1], 40 * MiB);
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big/forty' }));
  t.is(head.ContentLength, 40 * MiB);
  t.is(head.ContentType, 'application/x-forty');
  t.is(sha256(await readBack('big/forty')), sha256(body));
});

test('Upload of a stream of unknown length at the SDK default checksums (CRC32 on every part)', async (t) => {
  const body = random(23 * MiB + 12345);
  // Uneven pieces, as a file or socket would deliver them; no ContentLength given.
  const pieces: Buffer[] = [];
  for (let off = 0, i = 0; off < body.length; i++) {
    const n = Math.min(body.length - off, 64 * 1024 + ((i * 7919) % 300_000));
    pieces.push(body.subarray(off, off + n));
    off += n;
  }
  const up = new Upload({ client: sdkDefaults, params: { Bucket: B, Key: 'big/stream', Body: Readable.from(pieces) }, partSize: 5 * MiB, queueSize: 4 });
  const out = await up.done();
  t.regex(out.ETag ?? '', /-5"$/);
  t.is(sha256(await readBack('big/stream')), sha256(body));
  const head = await sdkDefaults.send(new HeadObjectCommand({ Bucket: B, Key: 'big/stream', ChecksumMode: 'ENABLED' }));
  t.is(head.ContentLength, body.length);
});

test('a body smaller than one part goes as one PutObject (MD5 ETag)', async (t) => {
  const body = random(3 * MiB);
  const out = await new Upload({ client: s3, params: { Bucket: B, Key: 'small', Body: body }, partSize: 5 * MiB, queueSize: 4 }).done();
  t.is(out.ETag, `"${md5(body)}"`);
  t.true((await readBack('small')).equals(body));
});

test('an Upload aborted midway leaves no upload in progress and no object', async (t) => {
  const body = random(30 * MiB);
  const up = new Upload({ client: s3, params: { Bucket: B, Key: 'aborted', Body: body }, partSize: 5 * MiB, queueSize: 2, leavePartsOnError: false });
  let aborted = false;
  up.on('httpUploadProgress', (p) => {
    if (!aborted && (p.loaded ?? 0) >= 10 * MiB) {
      aborted = true;
      void up.abort();
    }
  });
  await t.throwsAsync(up.done());
  // The SDK aborts the upload on its way out; give its AbortMultipartUpload a moment to land.
  for (let i = 0; i < 50; i++) {
    const l = await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: 'aborted' }));
    if ((l.Uploads ?? []).length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const l = await s3.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: 'aborted' }));
  t.deepEqual(l.Uploads ?? [], []);
  const err = await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'aborted' })));
  t.is((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 404);
});
