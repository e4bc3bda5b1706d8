// Listing a remote s3:// bucket from its S3 bucket inventory, end to end. The remote is a real tais
// node with access keys (SigV4 verified); it holds a few real objects and, where S3 would write them,
// inventories in S3's CSV format: one of 100,000 names inside the bucket (AIStore's default location
// `.inventory/`) and one in another destination bucket. The cluster attaches the bucket with the ais
// CLI and lists it with `ais ls --inventory` (native API) and with S3 ListObjectsV2 + the
// Ais-Bucket-Inventory header (@aws-sdk/client-s3).
import test from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCluster, type Cluster } from './helpers/cluster';
import { makeInventory, type InvObject } from './helpers/inventory';
import { ROOT, random, s3Client, startNode, mapLimit, compareUtf8, md5, type AisNode } from './helpers/node';

const AK = 'INVKEY';
const SK = 'inv/Secret+2';
const B = 'invsrc';
const DEST = 'invdest';
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
const T0 = Date.parse('2026-12-01T00:00:00Z');
const N = 100_000;

let remote: AisNode;
let direct: S3Client;
let c: Cluster;
let s3: S3Client;

const real = new Map<string, Buffer>();
const names: string[] = [];

function ais(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AIS, ...args], { env: { ...process.env, AIS_ENDPOINT: c.primary.url }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** An S3 client that asks for inventory listings (the header AIStore's S3 front end reads). */
function inventoryClient(url: string, name?: string): S3Client {
  const cl = s3Client(url);
  cl.middlewareStack.add(
    (next) => async (args) => {
      const r = args.request as { headers: Record<string, string> };
      r.headers['ais-bucket-inventory'] = 'true';
      if (name) r.headers['ais-inv-name'] = name;
      return next(args);
    },
    { step: 'build', name: 'aisInventory' },
  );
  return cl;
}

test.before(async () => {
  remote = await startNode({ name: 'inv-remote', config: { auth: { s3: { keys: { [AK]: SK }, max_skew_s: 900 } } } });
  direct = new S3Client({ endpoint: remote.s3url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SK }, maxAttempts: 1 });
  await direct.send(new CreateBucketCommand({ Bucket: B }));
  await direct.send(new CreateBucketCommand({ Bucket: DEST }));
  for (let i = 0; i < 5; i++) real.set(`real/obj-${i}`, random(1000 + i));
  for (const [Key, Body] of real) await direct.send(new PutObjectCommand({ Bucket: B, Key, Body }));
  const objs: InvObject[] = [...real].map(([key, b]) => ({ key, size: b.length, mtimeMs: T0, etag: md5(b) }));
  for (let i = 0; objs.length < N; i++) objs.push({ key: `train/shard-${i % 8}/${String(i).padStart(7, '0')}.jpg`, size: i, mtimeMs: T0, etag: `e${i}` });
  names.push(...objs.map((o) => o.key).sort(compareUtf8));
  const files = new Map<string, Buffer>();
  for (const [k, v] of makeInventory(objs, { prefix: '.inventory', sourceBucket: B, configId: 'daily', stamp: '2026-12-01T00-00Z', createdMs: T0, parts: 3 })) files.set(`${B}\n${k}`, v);
  const few = objs.slice(0, 7);
  for (const [k, v] of makeInventory(few, { prefix: 'reports', sourceBucket: B, configId: 'weekly', stamp: '2026-11-29T00-00Z', createdMs: T0 - 2 * 86_400_000 })) files.set(`${DEST}\n${k}`, v);
  await mapLimit([...files], 8, ([bk, Body]) => {
    const [Bucket, Key] = bk.split('\n') as [string, string];
    return direct.send(new PutObjectCommand({ Bucket, Key, Body }));
  });
  c = await startCluster({ name: 'inv', targets: 1, env: { AWS_ACCESS_KEY_ID: AK, AWS_SECRET_ACCESS_KEY: SK, AWS_REGION: 'us-east-1' } });
  const r = await ais('bucket', 'create', `s3://${B}`, '--props', `extra.aws.endpoint=${remote.s3url}`);
  if (r.code !== 0) throw new Error(`attach: ${r.stderr}`);
  s3 = s3Client(c.primary.url);
});

test.after.always(async () => {
  s3?.destroy();
  direct?.destroy();
  await c?.stop();
  await remote?.stop();
});

test.serial('S3 ListObjectsV2 with Ais-Bucket-Inventory: 100,000 names in 100 pages, equal to the inventory sorted', async (t) => {
  const inv = inventoryClient(c.primary.url);
  const got: string[] = [];
  let token: string | undefined;
  let pages = 0;
  let invTime = '';
  inv.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      invTime = String((out.response as { headers: Record<string, string> }).headers['ais-inv-time'] ?? '');
      return out;
    },
    { step: 'deserialize', name: 'invTime' },
  );
  do {
    const r = await inv.send(new ListObjectsV2Command({ Bucket: B, ContinuationToken: token }));
    got.push(...(r.Contents ?? []).map((o) => o.Key!));
    token = r.NextContinuationToken;
    pages++;
  } while (token);
  t.is(pages, 100);
  t.is(got.length, N);
  // (ava's deepEqual of 100,000 strings takes longer than the listing)
  const firstDiff = got.findIndex((k, i) => k !== names[i]);
  t.is(firstDiff, -1, `first difference at ${firstDiff}: ${got[firstDiff]} vs ${names[firstDiff]}`);
  t.is(invTime, new Date(T0).toISOString());
  // Without the header the same bucket lists the remote itself: the 5 real objects and the inventory files.
  const plain = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'train/' }));
  t.is(plain.KeyCount, 0);
  // Prefix and delimiter work on the inventory too.
  const dirs = await inv.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/' }));
  t.deepEqual((dirs.CommonPrefixes ?? []).map((p) => p.Prefix), ['real/', 'train/']);
  inv.destroy();
});

test.serial('ais ls --inventory: prefix, limit, the inventory age on stderr; cached objects flagged', async (t) => {
  // One real object read through the cluster: cached from now on.
  const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'real/obj-3' }));
  t.is(md5(Buffer.from(await g.Body!.transformToByteArray())), md5(real.get('real/obj-3')!));
  let r = await ais('ls', `s3://${B}`, '--inventory', '--prefix', 'real/', '--props', 'name,size,cached');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^Listing from the S3 inventory of 2026-12-01T00:00:00\.000Z \(\d+ h old\)\n$/);
  const rows = r.stdout.trim().split('\n').slice(1, -1).map((l) => l.split(/\s+/));
  t.deepEqual(rows.map((x) => x[0]), [...real.keys()]);
  t.deepEqual(rows.map((x) => x.at(-1)), ['no', 'no', 'no', 'yes', 'no']);
  r = await ais('ls', `s3://${B}`, '--inventory', '--prefix', 'train/shard-5/', '--limit', '3', '-H');
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]), names.filter((n) => n.startsWith('train/shard-5/')).slice(0, 3));
});

test.serial('another destination bucket (--inv-name s3://DEST/PREFIX) and a configuration ID', async (t) => {
  // The destination bucket is reached with the source bucket's endpoint and credentials.
  const r = await ais('ls', `s3://${B}`, '--inventory', '--inv-name', `s3://${DEST}/reports`, '--inv-id', 'weekly', '-H');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.trim().split('\n').length, 7);
  const inv = inventoryClient(c.primary.url, `s3://${DEST}/reports`);
  const l = await inv.send(new ListObjectsV2Command({ Bucket: B }));
  t.is(l.KeyCount, 7);
  inv.destroy();
});

test.serial('no inventory where asked, or a bad combination: clear errors', async (t) => {
  let r = await ais('ls', `s3://${B}`, '--inventory', '--inv-id', 'nope');
  t.is(r.code, 1);
  t.regex(r.stderr, /no S3 inventory manifest under "\.inventory\/invsrc\/nope\/"/);
  r = await ais('ls', `s3://${B}`, '--inventory', '--cached');
  t.is(r.code, 2);
  r = await ais('ls', `s3://${B}`, '--inv-id', 'daily');
  t.is(r.code, 2);
  t.regex(r.stderr, /--inv-name and --inv-id go with --inventory/);
  const inv = inventoryClient(c.primary.url, 'no-such-prefix');
  const e = await t.throwsAsync(inv.send(new ListObjectsV2Command({ Bucket: B })));
  t.is((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
  t.is((e as { Code?: string }).Code, 'InvalidRequest');
  inv.destroy();
});
