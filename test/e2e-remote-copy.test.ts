// End to end, CopyObject and UploadPartCopy with remote s3:// buckets (as source, destination or both),
// and promote into one, on a cluster of a proxy and two targets. The remote is a tais node with access keys (SigV4 verified
// on every call the cluster makes); its own metrics count the object GETs it served. A source not in
// the cluster yet is fetched once, by its owner (the target its GETs go to); a copy into an s3:// bucket
// is written through to the remote before the client hears 200, with the remote's ETag.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startCluster, logNodesOnFailure, type Cluster } from './helpers/cluster';
import { ROOT, request, random, runScript, sha256, s3Client, type AisNode, startNode } from './helpers/node';
import { digestOf, hrwSelect, objectUname } from '../src/cluster/hrw';

const AK = 'REMOTEKEY';
const SK = 'remote/Secret+3';
const B = 'rcp'; // s3://rcp, attached
const L = 'lcp'; // ais://lcp
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');

let remote: AisNode;
let direct: S3Client;
let c: Cluster;
let s3: S3Client;
let promoteRoot: string;

function ais(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) =>
    execFile(process.execPath, [AIS, ...args], { env: { ...process.env, AIS_ENDPOINT: c.primary.url } }, (err, _out, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    ),
  );
}

/** Object GETs the remote has served (its own counter). */
async function remoteGets(): Promise<number> {
  const m = (await request(remote.url, { method: 'GET', path: '/metrics' })).body.toString();
  return Number(/^ais_target_get_count\S* (\d+)/m.exec(m)?.[1] ?? NaN);
}

async function owner(bucket: string, key: string): Promise<AisNode> {
  const smap = await c.smap();
  const cands = Object.values(smap.tmap).map((s) => ({ digest: digestOf(s.daemon_id), port: Number(s.public_net.daemon_port) }));
  const best = hrwSelect(cands, objectUname(bucket === B ? 'aws' : 'ais', bucket, key))!;
  return c.targets.find((t) => t.port === best.port)!;
}

/** The first `${prefix}${i}` whose owner in `bucket` is (or is not) `t`. */
async function keyOwned(bucket: string, prefix: string, t: AisNode, same: boolean): Promise<string> {
  for (let i = 0; ; i++) if (((await owner(bucket, `${prefix}${i}`)) === t) === same) return `${prefix}${i}`;
}

/** Targets holding the object file of bucket/key. */
function holders(bucket: string, key: string): AisNode[] {
  return c.targets.filter((t) => t.dirs.mountpaths.some((mp) => fs.existsSync(path.join(mp, '@ais', bucket, '%ob', key))));
}

/** Work files left in the bucket on any target. */
function workFiles(bucket: string): string[] {
  const out: string[] = [];
  for (const t of c.targets) {
    for (const mp of t.dirs.mountpaths) {
      const dir = path.join(mp, '@ais', bucket, '%wk');
      if (fs.existsSync(dir)) out.push(...(fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()));
    }
  }
  return out;
}

async function bytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** An object only on the remote (not in the cluster). */
async function onRemoteOnly(key: string, size: number): Promise<Buffer> {
  const body = random(size);
  await direct.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body, ContentType: 'text/x-src', Metadata: { from: key } }));
  return body;
}

test.before(async () => {
  remote = await startNode({ name: 'rcp-remote', config: { auth: { s3: { keys: { [AK]: SK }, max_skew_s: 900 } } } });
  direct = new S3Client({ endpoint: remote.s3url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SK }, maxAttempts: 1 });
  await direct.send(new CreateBucketCommand({ Bucket: B }));
  promoteRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-rcp-promote-'));
  c = await startCluster({ name: 'rcp', targets: 2, env: { AWS_ACCESS_KEY_ID: AK, AWS_SECRET_ACCESS_KEY: SK, AWS_REGION: 'us-east-1', AIS_PROMOTE_ROOT: promoteRoot } });
  s3 = s3Client(c.primary.url);
  const made = await ais('bucket', 'create', `s3://${B}`, '--props', `extra.aws.endpoint=${remote.s3url}`);
  if (made.code !== 0) throw new Error(made.stderr);
  await s3.send(new CreateBucketCommand({ Bucket: L }));
});

test.after.always(async () => {
  s3?.destroy();
  direct?.destroy();
  await c?.stop();
  await remote?.stop();
  if (promoteRoot) fs.rmSync(promoteRoot, { recursive: true, force: true });
});

test.serial('s3:// to s3:// (source on the destination\'s owner, and on the other target): fetched once on its owner, the copy on the remote with the source\'s metadata and the remote\'s ETag', async (t) => {
  for (const same of [true, false]) {
    const src = `a/src-${same}`;
    const body = await onRemoteOnly(src, 300_000);
    const srcOwner = await owner(B, src);
    const dst = await keyOwned(B, `a/dst-${same}-`, srcOwner, same);
    const gets = await remoteGets();
    const r = await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}` }));
    t.is(await remoteGets(), gets + 1, `the source fetched once (same owner: ${same})`);
    const h = await direct.send(new HeadObjectCommand({ Bucket: B, Key: dst }));
    t.is(r.CopyObjectResult?.ETag, h.ETag, 'the remote\'s ETag');
    t.is(h.ContentType, 'text/x-src');
    t.is(h.Metadata?.from, src);
    t.is(sha256(await bytes(direct, B, dst)), sha256(body), 'the remote has the bytes');
    t.deepEqual(holders(B, src), [srcOwner], 'the source cached on its owner only');
    t.deepEqual(holders(B, dst), [await owner(B, dst)], 'the copy cached on its owner');
    // Both served from the cluster now (the direct GET above was the remote's only other one).
    t.is(sha256(await bytes(s3, B, dst)), sha256(body));
    t.is(sha256(await bytes(s3, B, src)), sha256(body));
    t.is(await remoteGets(), gets + 2);
  }
  t.deepEqual(workFiles(B), []);
});

test.serial('ais:// to s3:// and s3:// to ais://; REPLACE metadata of an s3:// object in place', async (t) => {
  const body = random(2 << 20);
  await s3.send(new PutObjectCommand({ Bucket: L, Key: 'b/local', Body: body, Metadata: { k: 'local' } }));
  const up = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'b/up', CopySource: `${L}/b/local` }));
  const h = await direct.send(new HeadObjectCommand({ Bucket: B, Key: 'b/up' }));
  t.is(up.CopyObjectResult?.ETag, h.ETag);
  t.is(h.Metadata?.k, 'local');
  t.is(sha256(await bytes(direct, B, 'b/up')), sha256(body));

  const src = 'b/remote-src';
  const rbody = await onRemoteOnly(src, 1 << 20);
  const gets = await remoteGets();
  const down = await s3.send(new CopyObjectCommand({ Bucket: L, Key: 'b/down', CopySource: `${B}/${src}` }));
  t.is(await remoteGets(), gets + 1);
  t.is(sha256(await bytes(s3, L, 'b/down')), sha256(rbody));
  t.is((await s3.send(new HeadObjectCommand({ Bucket: L, Key: 'b/down' }))).ETag, down.CopyObjectResult?.ETag);
  t.deepEqual(holders(B, src), [await owner(B, src)]);
  t.deepEqual(holders(L, 'b/down'), [await owner(L, 'b/down')]);

  await s3.send(new CopyObjectCommand({ Bucket: B, Key: src, CopySource: `${B}/${src}`, MetadataDirective: 'REPLACE', ContentType: 'text/x-new', Metadata: { v: '2' } }));
  const after = await direct.send(new HeadObjectCommand({ Bucket: B, Key: src }));
  t.is(after.ContentType, 'text/x-new');
  t.deepEqual(after.Metadata, { v: '2' });
  t.is(sha256(await bytes(direct, B, src)), sha256(rbody));
  const cached = await s3.send(new HeadObjectCommand({ Bucket: B, Key: src }));
  t.is(cached.ETag, after.ETag, 'the cached copy knows the remote\'s new ETag');
  t.is(cached.Metadata?.v, '2');
});

test.serial('UploadPartCopy from an uncached s3:// object (whole and a range) into an ais:// upload', async (t) => {
  const src = 'c/part-src';
  const body = await onRemoteOnly(src, 6 << 20);
  const tail = random(1000);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: L, Key: 'c/assembled' }));
  const p1 = await s3.send(new UploadPartCopyCommand({ Bucket: L, Key: 'c/assembled', UploadId, PartNumber: 1, CopySource: `${B}/${src}` }));
  const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: L, Key: 'c/assembled', UploadId, PartNumber: 2, CopySource: `${B}/${src}`, CopySourceRange: 'bytes=0-5242879' }));
  const p3 = await s3.send(new UploadPartCommand({ Bucket: L, Key: 'c/assembled', UploadId, PartNumber: 3, Body: tail }));
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: L,
      Key: 'c/assembled',
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.CopyPartResult?.ETag }, { PartNumber: 2, ETag: p2.CopyPartResult?.ETag }, { PartNumber: 3, ETag: p3.ETag }] },
    }),
  );
  t.is(sha256(await bytes(s3, L, 'c/assembled')), sha256(Buffer.concat([body, body.subarray(0, 5 << 20), tail])));
  t.deepEqual(holders(B, src), [await owner(B, src)]);
});

test.serial('failures: a source missing on the remote is NoSuchKey; a remote that refuses the write leaves nothing in the cluster or on it; a conditional copy into s3:// is 501', async (t) => {
  await t.throwsAsync(s3.send(new CopyObjectCommand({ Bucket: L, Key: 'd/x', CopySource: `${B}/d/nosuch` })), { name: 'NoSuchKey' });
  await t.throwsAsync(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'd/x', CopySource: `${B}/d/nosuch` })), { name: 'NoSuchKey' });
  t.deepEqual(holders(L, 'd/x'), []);

  await s3.send(new PutObjectCommand({ Bucket: L, Key: 'd/local', Body: random(100_000) }));
  const set = await ais('bucket', 'props', 'set', `s3://${B}`, 'extra.aws.endpoint=http://127.0.0.1:1/s3');
  t.is(set.code, 0, set.stderr);
  try {
    for (let i = 0; i < 4; i++) {
      const err = await t.throwsAsync(s3.send(new CopyObjectCommand({ Bucket: B, Key: `d/never-${i}`, CopySource: `${L}/d/local` })));
      t.is((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 503);
      t.deepEqual(holders(B, `d/never-${i}`), []);
    }
  } finally {
    const back = await ais('bucket', 'props', 'set', `s3://${B}`, `extra.aws.endpoint=${remote.s3url}`);
    t.is(back.code, 0, back.stderr);
  }
  t.deepEqual(workFiles(B), []);
  await t.throwsAsync(direct.send(new HeadObjectCommand({ Bucket: B, Key: 'd/never-0' })), { name: 'NotFound' });

  await t.throwsAsync(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'd/cond', CopySource: `${L}/d/local`, IfNoneMatch: '*' })), { name: 'NotImplemented' });
});

test.serial('promote into an s3:// bucket: every file written through to the remote by its owner; existing objects kept unless --overwrite-dst', async (t) => {
  const dir = path.join(promoteRoot, 'ds');
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 8; i++) files.set(`f${i}.bin`, random(50_000 + i));
  fs.mkdirSync(dir, { recursive: true });
  for (const [k, v] of files) fs.writeFileSync(path.join(dir, k), v);
  await direct.send(new PutObjectCommand({ Bucket: B, Key: 'prom/f0.bin', Body: 'kept' }));
  const env = { AIS_ENDPOINT: c.primary.url };
  const run = (...args: string[]) => runScript(AIS, ['object', 'promote', dir, `s3://${B}/prom/`, '--wait', ...args], { env });
  const r = await run();
  t.is(r.code, 0, r.stderr);
  t.is((await bytes(direct, B, 'prom/f0.bin')).toString(), 'kept');
  for (const [k, v] of files) {
    if (k === 'f0.bin') continue;
    t.is(sha256(await bytes(direct, B, `prom/${k}`)), sha256(v), k);
    t.deepEqual(holders(B, `prom/${k}`), [await owner(B, `prom/${k}`)], `${k} cached on its owner`);
  }
  const over = await run('--overwrite-dst');
  t.is(over.code, 0, over.stderr);
  t.is(sha256(await bytes(direct, B, 'prom/f0.bin')), sha256(files.get('f0.bin')!));
  t.deepEqual(workFiles(B), []);
});

test.afterEach.always((t) => logNodesOnFailure(t, c));
