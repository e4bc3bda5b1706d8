// Remote s3:// bucket against a second S3 implementation: moto's S3 server (python3 -m moto.server,
// present on this machine's image). Attach, cold GET, HEAD, listing, PUT/DELETE write-through, a
// multipart upload and a prefetch job — the same calls as against tais, answered by other code.
import test from 'ava';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, UploadPartCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCluster, type Cluster } from './helpers/cluster';
import { ROOT, freePort, random, request, s3Client, sha256, sleep } from './helpers/node';

const B = 'motobk';
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
const CREDS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };
let moto: ChildProcess;
let motoUrl = '';
let direct: S3Client;
let c: Cluster;
let s3: S3Client;

function ais(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AIS, ...args], { env: { ...process.env, AIS_ENDPOINT: c.primary.url } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// moto comes with the image's python3 on these machines; where it does not, the test is skipped (and
// says so), not passed.
const HAVE_MOTO = spawnSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' }).status === 0;
if (!HAVE_MOTO) console.log('e2e-remote-moto: python3 has no moto (import moto.server failed): skipped');

test.before(async () => {
  if (!HAVE_MOTO) return;
  const port = await freePort();
  moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  motoUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await request(motoUrl, { method: 'GET', path: '/', timeoutMs: 1000 })).status > 0) break;
    } catch {
      if (i > 100) throw new Error('moto server did not start');
      await sleep(200);
    }
  }
  direct = new S3Client({ endpoint: motoUrl, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await direct.send(new CreateBucketCommand({ Bucket: B }));
  c = await startCluster({ name: 'moto', targets: 2, env: CREDS });
  s3 = s3Client(c.primary.url);
});

test.after.always(async () => {
  s3?.destroy();
  direct?.destroy();
  await c?.stop();
  moto?.kill('SIGTERM');
});

async function bytesOf(client: S3Client, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: B, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

(HAVE_MOTO ? test.serial : test.serial.skip)('moto as the remote: attach, cold GET, HEAD, listing, write-through, multipart, prefetch', async (t) => {
  const a = random(3 << 20);
  await direct.send(new PutObjectCommand({ Bucket: B, Key: 'data/a.bin', Body: a }));
  await direct.send(new PutObjectCommand({ Bucket: B, Key: 'data/b.txt', Body: 'bee' }));
  const attach = await ais('bucket', 'create', `s3://${B}`, '--props', `extra.aws.endpoint=${motoUrl}`);
  t.is(attach.code, 0, attach.stderr);
  const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'data/a.bin' }));
  t.is(h.ContentLength, 3 << 20);
  t.is(sha256(await bytesOf(s3, 'data/a.bin')), sha256(a));
  const l = await s3.send(new ListObjectsV2Command({ Bucket: B }));
  t.deepEqual((l.Contents ?? []).map((o) => o.Key), ['data/a.bin', 'data/b.txt']);
  const ls = await ais('ls', `s3://${B}`, '--props', 'name,cached', '-H');
  t.deepEqual(ls.stdout.trim().split('\n').map((r) => r.trim().split(/\s+/)), [['data/a.bin', 'yes'], ['data/b.txt', 'no']]);
  // Write-through.
  const body = random(100_000);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'up/x', Body: body }));
  t.is(sha256(await bytesOf(direct, 'up/x')), sha256(body));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'up/x' }));
  await t.throwsAsync(direct.send(new HeadObjectCommand({ Bucket: B, Key: 'up/x' })));
  // Multipart: assembled in the cluster, written to moto whole.
  const parts = [random(5 << 20), random(777)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'up/mpu' }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'up/mpu', UploadId, PartNumber: i + 1, Body: parts[i] }));
    done.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'up/mpu', UploadId, MultipartUpload: { Parts: done } }));
  t.is(sha256(await bytesOf(direct, 'up/mpu')), sha256(Buffer.concat(parts)));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'up/mpu' }));
  // Prefetch the rest.
  const p = await ais('prefetch', `s3://${B}`, '--prefix', 'data/', '--wait');
  t.is(p.code, 0, p.stderr);
  t.regex(p.stdout, /Total: 1 object, 3B ✓/);
  const cached = await ais('ls', `s3://${B}`, '--cached', '-H');
  t.deepEqual(cached.stdout.trim().split('\n').map((r) => r.trim().split(/\s+/)[0]), ['data/a.bin', 'data/b.txt']);
});
