// Remote s3:// buckets end to end. The remote is a real tais node with access keys (SigV4 verified on
// every call the cluster makes); between the cluster and the remote sits a small HTTP relay in this
// test that counts the remote object GETs and can slow a body down, cut it, or refuse connections.
// The cluster (1 proxy, 2 targets) has the keys in its environment, as the AWS SDK's default chain
// reads them, and attaches the bucket with `ais bucket create s3://B --props extra.aws.endpoint=...`.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, UploadPartCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCluster, logNodesOnFailure, type Cluster } from './helpers/cluster';
import { ROOT, request, random, sha256, s3Client, startNode, procMem, type AisNode } from './helpers/node';
import { Readable } from 'node:stream';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { xxh64 } from '../src/native';
import { memberHeader, padding, streamTar, TAR_END } from '../src/archive/tar';
import { digestOf, hrwSelect, objectUname } from '../src/cluster/hrw';
import { keepAliveAgent } from '../src/util/agent';

const AK = 'REMOTEKEY';
const SK = 'remote/Secret+1';
const B = 'rbk';
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');

let remote: AisNode;
let direct: S3Client; // to the remote itself, with its keys
let c: Cluster;
let s3: S3Client; // to the cluster
let relay: http.Server;
let relayUrl = '';

/** What the relay does to remote object GET bodies, and what it saw. */
const gate = { objectGets: 0, mode: 'pass' as 'pass' | 'slow' | 'cut' | 'down', bodiesFinished: 0 };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ais(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AIS, ...args], { env: { ...process.env, AIS_ENDPOINT: c.primary.url } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const relayAgent = keepAliveAgent();

function startRelay(): Promise<void> {
  relay = http.createServer((creq, cres) => {
    if (gate.mode === 'down') return creq.socket.destroy();
    const isObjectGet = creq.method === 'GET' && /^\/s3\/[^/?]+\/[^?]+/.test(creq.url ?? '');
    if (isObjectGet) gate.objectGets++;
    // Host is passed unchanged: the SigV4 signature names it, and the remote verifies it.
    // Its own keep-alive agent that drops idle sockets before the remote (uWS, 10 s) does: Node's global
    // agent reused one the remote was closing in a long, loaded run, and the relay reset the exchange.
    const up = http.request({ host: '127.0.0.1', port: remote.port, method: creq.method, path: creq.url, headers: creq.headers, agent: relayAgent }, (ures) => {
      cres.writeHead(ures.statusCode ?? 502, ures.headers);
      if (!isObjectGet || gate.mode === 'pass') {
        ures.pipe(cres);
        ures.on('end', () => isObjectGet && gate.bodiesFinished++);
        return;
      }
      let sent = 0;
      ures.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        if (gate.mode === 'cut' && sent > 1 << 20) {
          ures.destroy();
          cres.destroy();
          return;
        }
        cres.write(chunk);
        if (gate.mode === 'slow') {
          ures.pause();
          setTimeout(() => ures.resume(), 20);
        }
      });
      ures.on('end', () => {
        gate.bodiesFinished++;
        cres.end();
      });
    });
    // A remote that answers before it read the whole body (a refused PUT) may close the connection while
    // the body is still going up: once its answer is being relayed, that write error is not the client's.
    up.on('error', () => {
      if (!cres.headersSent) cres.destroy();
    });
    creq.pipe(up);
  });
  return new Promise((resolve) => relay.listen(0, '127.0.0.1', () => {
    relayUrl = `http://127.0.0.1:${(relay.address() as { port: number }).port}`;
    resolve();
  }));
}

const objects = new Map<string, Buffer>();

test.before(async () => {
  remote = await startNode({ name: 'remote', config: { auth: { s3: { keys: { [AK]: SK }, max_skew_s: 900 } } } });
  direct = new S3Client({ endpoint: remote.s3url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SK }, maxAttempts: 1 });
  await direct.send(new CreateBucketCommand({ Bucket: B }));
  for (const [k, n] of [['small.txt', 1000], ['big.bin', 64 << 20], ['stream.bin', 4 << 20], ['conc.bin', 3 << 20], ['cut.bin', 4 << 20], ['down.bin', 10], ['dir/a', 10], ['dir/b', 20]] as const) {
    const body = random(n);
    objects.set(k, body);
    await direct.send(new PutObjectCommand({ Bucket: B, Key: k, Body: body }));
  }
  // For the jobs: 20 small objects, and 12 of 1 MiB that a slowed-down relay keeps in flight.
  const jobObjects: [string, number][] = [
    ...Array.from({ length: 20 }, (_, i): [string, number] => [`pf/${String(i).padStart(4, '0')}`, 64 << 10]),
    ...Array.from({ length: 12 }, (_, i): [string, number] => [`cx/${String(i).padStart(3, '0')}`, 1 << 20]),
  ];
  await Promise.all(jobObjects.map(([k, n]) => direct.send(new PutObjectCommand({ Bucket: B, Key: k, Body: random(n) }))));
  await startRelay();
  c = await startCluster({ name: 'rmt', targets: 2, env: { AWS_ACCESS_KEY_ID: AK, AWS_SECRET_ACCESS_KEY: SK, AWS_REGION: 'us-east-1' } });
  s3 = s3Client(c.primary.url);
});

test.afterEach.always((t) => {
  logNodesOnFailure(t, c);
  if (!t.passed && process.env.TAIS_TEST_LOGS && remote) t.log(`--- remote\n${remote.log().slice(-3000)}`);
});

test.after.always(async () => {
  s3?.destroy();
  direct?.destroy();
  await c?.stop();
  await remote?.stop();
  relay?.close();
});

/** Every file of bucket B on the targets (objects and work files), relative to the bucket folder. */
/**
 * Files of `key` and work files left on the targets. A failed fetch removes its work file right after
 * the client learns of the failure (a cut stream cannot wait for it): allow that a moment.
 */
async function leftovers(key: string): Promise<string[]> {
  let left: string[] = [];
  for (let i = 0; i < 50; i++) {
    left = filesOnTargets().filter((f) => f.rel.includes(key) || f.rel.startsWith('%wk')).map((f) => f.rel);
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return left;
}

function filesOnTargets(): { target: AisNode; rel: string }[] {
  const out: { target: AisNode; rel: string }[] = [];
  for (const t of c.targets) {
    for (const mp of t.dirs.mountpaths) {
      const dir = path.join(mp, '@ais', B);
      if (!fs.existsSync(dir)) continue;
      for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
        // Polled while a PUT finishes: its work file may be renamed between the listing and the stat.
        if (fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.isFile()) out.push({ target: t, rel: f });
      }
    }
  }
  return out;
}

async function hrwOwner(key: string): Promise<AisNode> {
  const smap = await c.smap();
  const cands = Object.values(smap.tmap).map((s) => ({ digest: digestOf(s.daemon_id), port: Number(s.public_net.daemon_port) }));
  const best = hrwSelect(cands, objectUname('aws', B, key))!;
  return c.targets.find((t) => t.port === best.port)!;
}

async function getBytes(key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

test.serial('attach: a missing remote bucket is refused with a clear error; an existing one is attached', async (t) => {
  const bad = await ais('bucket', 'create', 's3://nosuch', '--props', `extra.aws.endpoint=${relayUrl}/s3`);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /cannot attach "s3:\/\/nosuch".*404/);
  const ok = await ais('bucket', 'create', `s3://${B}`, '--props', `extra.aws.endpoint=${relayUrl}/s3`);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /"s3:\/\/rbk" bucket added/);
  // Names are unique across providers: ais://rb cannot exist beside s3://rb.
  const dup = await ais('bucket', 'create', `ais://${B}`);
  t.is(dup.code, 1);
  t.regex(dup.stderr, /taken by "s3:\/\/rbk"/);
  const props = await ais('bucket', 'props', 'show', `s3://${B}`, '--json');
  t.is(JSON.parse(props.stdout).extra.aws.endpoint, `${relayUrl}/s3`);
  t.is(JSON.parse(props.stdout).provider, 'aws');
});

test.serial('HEAD of an uncached object answers from the remote and fetches nothing', async (t) => {
  const before = gate.objectGets;
  const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'small.txt' }));
  t.is(h.ContentLength, 1000);
  t.is(gate.objectGets, before);
  t.is(filesOnTargets().length, 0);
  await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'nope' })), { name: 'NotFound' });
});

test.serial('cold GET (small, 64 MiB): the bytes, stored on the HRW owner with the bucket checksum; warm GET does not ask the remote', async (t) => {
  for (const key of ['small.txt', 'big.bin']) {
    const before = gate.objectGets;
    const got = await getBytes(key);
    t.is(sha256(got), sha256(objects.get(key)!), key);
    t.is(gate.objectGets, before + 1);
    const owner = await hrwOwner(key);
    const files = filesOnTargets().filter((f) => f.rel === path.join('%ob', key));
    t.is(files.length, 1);
    t.is(files[0]!.target, owner);
    const h = await request(c.primary.url, { method: 'HEAD', path: `/v1/objects/${B}/${key}?provider=aws` });
    t.is(h.headers['ais-checksum-type'], 'xxhash');
    t.is(h.headers['ais-checksum-value'], xxh64(objects.get(key)!, 0n).toString(16).padStart(16, '0'));
    t.is(h.headers['ais-present'], 'true');
    // Warm: served from the cluster.
    const again = await getBytes(key);
    t.is(sha256(again), sha256(objects.get(key)!));
    t.is(gate.objectGets, before + 1);
  }
  // A range of a cached object.
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big.bin', Range: 'bytes=1000-1999' }));
  t.deepEqual(Buffer.from(await r.Body!.transformToByteArray()), objects.get('big.bin')!.subarray(1000, 2000));
});

test.serial('cold GET of 1 GiB: streamed from the remote through the owner to the client, bytes and checksum right, the owner\'s memory flat', async (t) => {
  const SIZE = 1 << 30;
  const key = 'huge/1gib.bin';
  // 1 GiB made and hashed as it is sent (neither side of the test holds it): 1 MiB blocks of a seed.
  const seed = random(1 << 20);
  const blocks = function* (): Generator<Buffer> {
    for (let i = 0; i < SIZE >> 20; i++) {
      const b = Buffer.from(seed);
      b.writeUInt32LE(i, 0);
      yield b;
    }
  };
  const want = createHash('sha256');
  for (const b of blocks()) want.update(b);
  await direct.send(new PutObjectCommand({ Bucket: B, Key: key, Body: Readable.from(blocks()), ContentLength: SIZE }));
  const owner = await hrwOwner(key);
  const before = procMem(owner.pid!);
  const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  const got = createHash('sha256');
  let n = 0;
  for await (const chunk of g.Body as Readable) {
    got.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  t.is(n, SIZE);
  t.is(got.digest('hex'), want.digest('hex'));
  const after = procMem(owner.pid!);
  t.log(`owner RSS ${(before.rss / 2 ** 20).toFixed(0)} MiB before, peak (VmHWM) ${(after.hwm / 2 ** 20).toFixed(0)} MiB`);
  t.true(after.hwm - before.rss < 256 * 2 ** 20, 'a 1 GiB object does not grow the owner by its size');
  const files = filesOnTargets().filter((f) => f.rel === path.join('%ob', key));
  t.is(files.length, 1);
  t.is(files[0]!.target, owner);
  const h = await request(c.primary.url, { method: 'HEAD', path: `/v1/objects/${B}/${key}?provider=aws` });
  t.is(h.headers['ais-present'], 'true');
  t.is(h.headers['content-length'], String(SIZE));
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: key })); // both copies: the later listings stay as they were
});

/** ais_target_remote_get_count summed over the targets' /metrics. */
async function remoteGetMetric(): Promise<number> {
  let n = 0;
  for (const tg of c.targets) {
    const r = await request(tg.url, { method: 'GET', path: '/metrics' });
    n += Number(/^ais_target_remote_get_count\{[^}]*\} (\d+)$/m.exec(r.body.toString())?.[1] ?? NaN);
  }
  return n;
}

test.serial('8 concurrent cold GETs of one object: the remote sees one GET, every client gets the bytes', async (t) => {
  const before = gate.objectGets;
  const metricBefore = await remoteGetMetric();
  gate.mode = 'slow'; // keeps the fetch in flight while the others arrive
  try {
    const all = await Promise.all(Array.from({ length: 8 }, () => getBytes('conc.bin')));
    for (const b of all) t.is(sha256(b), sha256(objects.get('conc.bin')!));
  } finally {
    gate.mode = 'pass';
  }
  t.is(gate.objectGets, before + 1);
  t.is(await remoteGetMetric(), metricBefore + 1, 'the targets counted one remote GET too');
});

test.serial('a cut remote read: 503, nothing stored, no work file left', async (t) => {
  gate.mode = 'cut';
  try {
    const err = await t.throwsAsync(getBytes('cut.bin'));
    t.is((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 503);
  } finally {
    gate.mode = 'pass';
  }
  t.deepEqual(await leftovers('cut.bin'), []);
});

test.serial('remote down: 503 with a clear message, nothing stored', async (t) => {
  gate.mode = 'down';
  try {
    const r = await request(c.primary.url, { method: 'GET', path: `/s3/${B}/down.bin` });
    t.is(r.status, 503);
    t.regex(r.body.toString(), /remote/);
  } finally {
    gate.mode = 'pass';
  }
  t.deepEqual(await leftovers('down.bin'), []);
});

test.serial('Streaming-Cold-GET: the client has bytes before the remote has sent them all; a cut stream stores nothing', async (t) => {
  const set = await request(c.primary.url, { method: 'PUT', path: '/v1/cluster/set-config?features=Streaming-Cold-GET' });
  t.is(set.status, 200, set.body.toString());
  try {
    gate.mode = 'slow';
    const finishedBefore = gate.bodiesFinished;
    let finishedAtFirstByte = -1;
    const body = await new Promise<Buffer>((resolve, reject) => {
      http.get(`${c.primary.url}/s3/${B}/stream.bin`, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (ch: Buffer) => {
          if (chunks.length === 0) finishedAtFirstByte = gate.bodiesFinished;
          chunks.push(ch);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).on('error', reject);
    });
    t.is(finishedAtFirstByte, finishedBefore, 'first bytes arrived while the remote body was still being sent');
    t.is(sha256(body), sha256(objects.get('stream.bin')!));
    // Stored too (the PUT path finishes right after the last byte).
    let stored = false;
    for (let i = 0; i < 50 && !stored; i++) {
      stored = filesOnTargets().some((f) => f.rel === path.join('%ob', 'stream.bin'));
      if (!stored) await new Promise((r) => setTimeout(r, 100));
    }
    t.true(stored);
    // Cut mid-body: the client sees a short body (the connection closes), nothing is stored.
    gate.mode = 'cut';
    const got = await new Promise<{ len: number; complete: boolean; declared: number }>((resolve) => {
      http.get(`${c.primary.url}/s3/${B}/cut.bin`, (res) => {
        let len = 0;
        res.on('data', (ch: Buffer) => (len += ch.length));
        res.on('close', () => resolve({ len, complete: res.complete, declared: Number(res.headers['content-length']) }));
        res.on('error', () => {});
      }).on('error', () => resolve({ len: 0, complete: false, declared: -1 }));
    });
    t.false(got.complete);
    t.true(got.len < (4 << 20));
    t.deepEqual(await leftovers('cut.bin'), []);
  } finally {
    gate.mode = 'pass';
    await request(c.primary.url, { method: 'PUT', path: '/v1/cluster/set-config?features=none' });
  }
});

test.serial('listing: the remote merged with the cached status; --cached lists the cluster only', async (t) => {
  const l = await s3.send(new ListObjectsV2Command({ Bucket: B }));
  const names = (l.Contents ?? []).map((o) => o.Key!);
  t.is(names.length, objects.size + 32);
  t.deepEqual(names.filter((n) => objects.has(n)), [...objects.keys()].sort());
  const paged = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 7 }));
  t.is(paged.Contents?.length, 7);
  const next = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 1000, ContinuationToken: paged.NextContinuationToken }));
  t.deepEqual([...(paged.Contents ?? []), ...(next.Contents ?? [])].map((o) => o.Key), names);
  // A page that ends with a common prefix: the next one starts after everything under it.
  const dirs = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/', MaxKeys: 4 }));
  t.deepEqual((dirs.Contents ?? []).map((o) => o.Key), ['big.bin', 'conc.bin', 'cut.bin']);
  t.deepEqual((dirs.CommonPrefixes ?? []).map((p) => p.Prefix), ['cx/']);
  const dirs2 = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/', ContinuationToken: dirs.NextContinuationToken }));
  t.deepEqual((dirs2.Contents ?? []).map((o) => o.Key), ['down.bin', 'small.txt', 'stream.bin']);
  t.deepEqual((dirs2.CommonPrefixes ?? []).map((p) => p.Prefix), ['dir/', 'pf/']);
  const ls = await ais('ls', `s3://${B}`, '--props', 'name,size,cached', '-H');
  t.is(ls.code, 0, ls.stderr);
  const rows = ls.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/));
  const cachedCol = new Map(rows.map((r) => [r[0], r[r.length - 1]]));
  t.is(cachedCol.get('small.txt'), 'yes');
  t.is(cachedCol.get('big.bin'), 'yes');
  t.is(cachedCol.get('dir/a'), 'no');
  const cachedOnly = await ais('ls', `s3://${B}`, '--cached', '-H');
  const cachedNames = cachedOnly.stdout.trim().split('\n').map((line) => line.trim().split(/\s+/)[0]).sort();
  t.deepEqual(cachedNames, ['big.bin', 'conc.bin', 'small.txt', 'stream.bin']);
});

test.serial('PUT and DELETE write through to the remote', async (t) => {
  const body = random(300_000);
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'new/obj', Body: body, Metadata: { k: 'v' } }));
  const onRemote = await direct.send(new GetObjectCommand({ Bucket: B, Key: 'new/obj' }));
  t.is(sha256(Buffer.from(await onRemote.Body!.transformToByteArray())), sha256(body));
  t.is(onRemote.Metadata?.k, 'v');
  t.is(put.ETag, onRemote.ETag);
  t.true(filesOnTargets().some((f) => f.rel === path.join('%ob', 'new', 'obj')));
  const before = gate.objectGets;
  t.is(sha256(await getBytes('new/obj')), sha256(body));
  t.is(gate.objectGets, before, 'served from the cache');
  await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'new/obj' }));
  await t.throwsAsync(direct.send(new HeadObjectCommand({ Bucket: B, Key: 'new/obj' })), { name: 'NotFound' });
  t.false(filesOnTargets().some((f) => f.rel === path.join('%ob', 'new', 'obj')));
  // DeleteObjects: each key deleted on the remote and in the cluster, by its owner.
  const keys = ['multi/a', 'multi/b', 'multi/c'];
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: k }));
  t.is(cachedKeys('multi/').length, 3);
  const del = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  t.is(del.Deleted?.length, 3);
  for (const k of keys) await t.throwsAsync(direct.send(new HeadObjectCommand({ Bucket: B, Key: k })), { name: 'NotFound' });
  t.deepEqual(cachedKeys('multi/'), []);
});

test.serial('a failed remote PUT stores nothing in the cluster', async (t) => {
  gate.mode = 'down';
  try {
    const err = await t.throwsAsync(s3.send(new PutObjectCommand({ Bucket: B, Key: 'never', Body: random(1000) })));
    t.is((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 503);
  } finally {
    gate.mode = 'pass';
  }
  t.deepEqual(await leftovers('never'), []);
});

interface JobSnap {
  id: string;
  kind: string;
  stats: { 'loc-objs': string; 'loc-bytes': string };
  aborted: boolean;
  'end-time': string;
}

async function jobSnaps(id: string): Promise<JobSnap[]> {
  const r = await ais('show', 'job', id, '--json');
  if (r.code !== 0) throw new Error(r.stderr);
  return Object.values(JSON.parse(r.stdout) as Record<string, JobSnap[]>).flat();
}

const cachedKeys = (prefix: string): string[] =>
  filesOnTargets().filter((f) => f.rel.startsWith(path.join('%ob', prefix))).map((f) => f.rel.slice(4)).sort();

test.serial('prefetch by template and by prefix: a job on every target, progress, objects cached on their owners', async (t) => {
  const before = gate.objectGets;
  const r = await ais('prefetch', `s3://${B}`, '--template', 'pf/{0000..0009}', '--wait');
  t.is(r.code, 0, r.stderr);
  const id = /prefetch-objects\[([^\]]+)\]/.exec(r.stdout)?.[1];
  t.truthy(id, r.stdout);
  t.regex(r.stdout, /Total: 10 objects, 640\.00KiB ✓/);
  t.is(gate.objectGets, before + 10);
  t.deepEqual(cachedKeys('pf/'), Array.from({ length: 10 }, (_, i) => `pf/${String(i).padStart(4, '0')}`));
  for (const k of cachedKeys('pf/')) {
    const owner = await hrwOwner(k);
    t.true(filesOnTargets().some((f) => f.target === owner && f.rel === path.join('%ob', k)), k);
  }
  // Every target ran its part; the parts add up.
  const snaps = await jobSnaps(id!);
  t.is(snaps.length, 2);
  t.is(snaps.reduce((n, s) => n + Number(s.stats['loc-objs']), 0), 10);
  t.true(snaps.every((s) => s.kind === 'prefetch-objects' && !s.aborted));
  // The prefix: the 10 not cached yet are fetched, the cached ones skipped.
  const p = await ais('prefetch', `s3://${B}`, '--prefix', 'pf/', '--wait');
  t.is(p.code, 0, p.stderr);
  t.regex(p.stdout, /Total: 10 objects/);
  t.is(cachedKeys('pf/').length, 20);
  t.is(gate.objectGets, before + 20);
});

test.serial('evict by list and by prefix: cached copies go, the remote keeps the objects', async (t) => {
  const r = await ais('evict', `s3://${B}`, '--list', 'pf/0000,pf/0001', '--wait');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /evict-objects\[[^\]]+\]: evict \[pf\/0000,pf\/0001\] in s3:\/\/rbk/);
  t.regex(r.stdout, /Total: 2 objects, 128\.00KiB ✓/);
  t.is(cachedKeys('pf/').length, 18);
  const p = await ais('evict', `s3://${B}`, '--prefix', 'pf/', '--wait');
  t.is(p.code, 0, p.stderr);
  t.regex(p.stdout, /Total: 18 objects/);
  t.deepEqual(cachedKeys('pf/'), []);
  const h = await direct.send(new HeadObjectCommand({ Bucket: B, Key: 'pf/0000' }));
  t.is(h.ContentLength, 64 << 10);
  const l = await ais('ls', `s3://${B}`, '--prefix', 'pf/', '--props', 'name,cached', '-H');
  t.true(l.stdout.trim().split('\n').every((line) => line.trim().endsWith('no')), l.stdout);
  const notRemote = await ais('prefetch', 'ais://nosuch');
  t.is(notRemote.code, 1);
});

test.serial('a prefetch job is stopped with ais stop job: every target ends it, aborted, with fewer objects', async (t) => {
  gate.mode = 'slow';
  try {
    const r = await ais('prefetch', `s3://${B}`, '--prefix', 'cx/', '--num-workers', '1');
    t.is(r.code, 0, r.stderr);
    const id = /prefetch-objects\[([^\]]+)\]/.exec(r.stdout)![1]!;
    const stop = await ais('stop', 'job', id);
    t.is(stop.code, 0, stop.stderr);
    let snaps: JobSnap[] = [];
    for (let i = 0; i < 100; i++) {
      snaps = await jobSnaps(id);
      if (snaps.every((s) => s['end-time'] !== '0001-01-01T00:00:00Z')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    // Every target's job has ended; a target that HRW gave only a few of the 12 may have finished them
    // before the stop came (seen under a loaded npm test), the others are aborted.
    t.true(snaps.every((s) => s['end-time'] !== '0001-01-01T00:00:00Z'), JSON.stringify(snaps));
    t.true(snaps.some((s) => s.aborted), JSON.stringify(snaps));
    const done = snaps.reduce((n, s) => n + Number(s.stats['loc-objs']), 0);
    t.true(done < 12, `${done} of 12 fetched before the stop`);
    t.is(cachedKeys('cx/').length, done);
    const shown = await ais('show', 'job', id);
    t.regex(shown.stdout, /Aborted/);
  } finally {
    gate.mode = 'pass';
  }
  t.deepEqual(await leftovers('%wk'), []);
  const missing = await ais('stop', 'job', 'nosuchjob');
  t.is(missing.code, 1);
});

test.serial('versioning.validate_warm_get: a changed remote object is fetched again, a deleted one is gone; off: the cached copy is served', async (t) => {
  const key = 'ver.txt';
  await direct.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'one' }));
  t.is((await getBytes(key)).toString(), 'one');
  await direct.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'two!' }));
  t.is((await getBytes(key)).toString(), 'one', 'validation off: the cached copy');
  const on = await ais('bucket', 'props', 'set', `s3://${B}`, 'versioning.validate_warm_get=true');
  t.is(on.code, 0, on.stderr);
  t.is((await getBytes(key)).toString(), 'two!');
  const before = gate.objectGets;
  t.is((await getBytes(key)).toString(), 'two!');
  t.is(gate.objectGets, before, 'unchanged: served from the cluster after a HEAD');
  await direct.send(new DeleteObjectCommand({ Bucket: B, Key: key }));
  await t.throwsAsync(getBytes(key), { name: 'NoSuchKey' });
  t.deepEqual(cachedKeys(key), []);
  const bad = await ais('bucket', 'props', 'set', `s3://${B}`, 'versioning.validate_warm_get=maybe');
  t.is(bad.code, 1);
  await ais('bucket', 'props', 'set', `s3://${B}`, 'versioning.validate_warm_get=false');
});

test.serial('S3-Presigned-Request (a bucket feature) with authentication on: a URL presigned for the remote (GET, PUT) is re-issued by the owner, the object stored and served; a bad one gets the remote\'s 403', async (t) => {
  const c2 = await startCluster({
    name: 'pre',
    targets: 2,
    env: { AWS_ACCESS_KEY_ID: AK, AWS_SECRET_ACCESS_KEY: SK, AWS_REGION: 'us-east-1' },
    config: { auth: { s3: { keys: { CLUSTERKEY: 'cluster-secret' }, max_skew_s: 900 } } },
  });
  try {
    const attach = await request(c2.primary.url, {
      method: 'POST',
      path: `/v1/buckets/${B}?provider=aws`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'create-bck', value: { extra: { aws: { endpoint: `${relayUrl}/s3` } } } }),
    });
    t.is(attach.status, 200, attach.body.toString());
    const key = 'small.txt';
    const path_ = `/s3/${B}/${key}`;
    // A URL made by the AWS SDK's presigner for the remote (its endpoint, its keys): the cluster gets its query.
    const presigner = new S3Client({ endpoint: `${relayUrl}/s3`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SK } });
    const url = new URL(await getSignedUrl(presigner, new GetObjectCommand({ Bucket: B, Key: key }), { expiresIn: 600 }));
    presigner.destroy();
    t.is(url.pathname, path_);
    const q = url.search.slice(1);
    const stored = (): boolean => c2.targets.some((tg) => tg.dirs.mountpaths.some((mp) => fs.existsSync(path.join(mp, '@ais', B, '%ob', key))));
    // Feature off (not in the cluster's features, not in the bucket's): our own SigV4 refuses the remote's signature.
    t.is((await request(c2.primary.url, { method: 'GET', path: `${path_}?${q}` })).status, 403);
    t.false(stored());
    const on = await request(c2.primary.url, {
      method: 'PATCH',
      path: `/v1/buckets/${B}?provider=aws`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'set-bprops', value: { features: 'S3-Presigned-Request' } }),
    });
    t.is(on.status, 200, on.body.toString());
    t.deepEqual((JSON.parse(on.body.toString()) as { features?: string[] }).features, ['S3-Presigned-Request']);
    // Unsigned: the cluster's own authentication still applies.
    const anon = await request(c2.primary.url, { method: 'GET', path: path_ });
    t.is(anon.status, 403);
    // A tampered signature: the remote refuses, its answer comes back, nothing is stored.
    const bad = await request(c2.primary.url, { method: 'GET', path: `${path_}?${q.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000')}` });
    t.is(bad.status, 403);
    t.regex(bad.body.toString(), /SignatureDoesNotMatch/);
    t.false(stored());
    // The presigned URL: re-issued as is, the object stored in the cluster and served.
    const ok = await request(c2.primary.url, { method: 'GET', path: `${path_}?${q}` });
    t.is(ok.status, 200, ok.body.toString());
    t.is(sha256(ok.body), sha256(objects.get(key)!));
    t.true(stored());
    // Cached now: served after the remote authorizes a 1-byte probe of the same signed request.
    const again = await request(c2.primary.url, { method: 'GET', path: `${path_}?${q}` });
    t.is(again.status, 200);
    t.is(sha256(again.body), sha256(objects.get(key)!));
    const badAgain = await request(c2.primary.url, { method: 'GET', path: `${path_}?${q.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000')}` });
    t.is(badAgain.status, 403, 'a cached object is not served on a signature the remote refuses');
    // A presigned PUT: the remote authorizes it (tampered: its 403 comes back, nothing stored, nothing on
    // the remote); signed right, the remote has the object and the cluster a copy with the remote's ETag.
    const pkey = 'presigned/put.bin';
    const pbody = random(200_000);
    const signer = new S3Client({ endpoint: `${relayUrl}/s3`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SK } });
    const purl = new URL(await getSignedUrl(signer, new PutObjectCommand({ Bucket: B, Key: pkey }), { expiresIn: 600 }));
    signer.destroy();
    const pq = purl.search.slice(1);
    const cachedPut = (): boolean => c2.targets.some((tg) => tg.dirs.mountpaths.some((mp) => fs.existsSync(path.join(mp, '@ais', B, '%ob', pkey))));
    // (A small body: the remote refuses before reading it, and a large one could still be on its way up
    // when the remote closes the connection — then the cluster sees a reset, 503, not the remote's 403.)
    const tampered = await request(c2.primary.url, { method: 'PUT', path: `/s3/${B}/${pkey}?${pq.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000')}`, body: pbody.subarray(0, 1000) });
    t.is(tampered.status, 403);
    t.regex(tampered.body.toString(), /SignatureDoesNotMatch/);
    t.false(cachedPut());
    await t.throwsAsync(direct.send(new HeadObjectCommand({ Bucket: B, Key: pkey })), { name: 'NotFound' });
    const put = await request(c2.primary.url, { method: 'PUT', path: `/s3/${B}/${pkey}?${pq}`, body: pbody });
    t.is(put.status, 200, put.body.toString());
    const onRemote = await direct.send(new GetObjectCommand({ Bucket: B, Key: pkey }));
    t.is(sha256(Buffer.from(await onRemote.Body!.transformToByteArray())), sha256(pbody));
    t.is(put.headers.etag, onRemote.ETag);
    t.true(cachedPut());
    // aws-chunked bodies cannot be re-sent as signed: a clear 501, nothing stored.
    const chunkedPut = await request(c2.primary.url, {
      method: 'PUT',
      path: `/s3/${B}/presigned/chunked?${pq}`,
      headers: { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '3' },
      body: '3\r\nabc\r\n0\r\n\r\n',
    });
    t.is(chunkedPut.status, 501, chunkedPut.body.toString());
  } finally {
    await c2.stop();
  }
});

async function multipart(key: string, parts: Buffer[]): Promise<string | undefined> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ContentType: 'application/x-tar' }));
  const done = [];
  for (let i = 0; i < parts.length; i++) {
    const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }));
    done.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  const c = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: done } }));
  return c.ETag;
}

test.serial('multipart upload on a remote bucket: assembled in the cluster, then written through the remote\'s multipart upload part for part; a failed write stores nothing', async (t) => {
  const parts = [random(5 << 20), random(5 << 20), random(1234)];
  const whole = Buffer.concat(parts);
  const etag = await multipart('mpu/shard.tar', parts);
  const onRemote = await direct.send(new GetObjectCommand({ Bucket: B, Key: 'mpu/shard.tar' }));
  t.is(sha256(Buffer.from(await onRemote.Body!.transformToByteArray())), sha256(whole));
  t.is(onRemote.ContentType, 'application/x-tar');
  // The remote made it from the same three parts: the S3 multipart ETag of the client's parts.
  const partMd5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
  t.is(onRemote.ETag, `"${createHash('md5').update(partMd5s).digest('hex')}-3"`);
  t.is(etag, onRemote.ETag);
  const p2 = await direct.send(new GetObjectCommand({ Bucket: B, Key: 'mpu/shard.tar', PartNumber: 2 }));
  t.is(sha256(Buffer.from(await p2.Body!.transformToByteArray())), sha256(parts[1]!));
  t.deepEqual(cachedKeys('mpu/'), ['mpu/shard.tar']);
  const before = gate.objectGets;
  t.is(sha256(await getBytes('mpu/shard.tar')), sha256(whole));
  t.is(gate.objectGets, before, 'served from the cluster');
  gate.mode = 'down';
  try {
    await t.throwsAsync(multipart('mpu/never.tar', [random(5 << 20), random(10)]));
  } finally {
    gate.mode = 'pass';
  }
  t.deepEqual(cachedKeys('mpu/'), ['mpu/shard.tar']);
  await t.throwsAsync(direct.send(new HeadObjectCommand({ Bucket: B, Key: 'mpu/never.tar' })), { name: 'NotFound' });
});

test.serial('ais put to an s3:// bucket (native API) writes through to the remote; remote down: an error and nothing stored', async (t) => {
  const body = random((3 << 20) + 5);
  const file = path.join(fs.mkdtempSync(path.join(ROOT, 'dist', 'tmp-rput-')), 'put.bin');
  fs.writeFileSync(file, body);
  try {
    let r = await ais('put', file, `s3://${B}/native/put.bin`);
    t.is(r.code, 0, r.stderr);
    const onRemote = await direct.send(new GetObjectCommand({ Bucket: B, Key: 'native/put.bin' }));
    t.is(sha256(Buffer.from(await onRemote.Body!.transformToByteArray())), sha256(body));
    t.deepEqual(cachedKeys('native/'), ['native/put.bin']);
    gate.mode = 'down';
    try {
      r = await ais('put', file, `s3://${B}/native/never.bin`);
    } finally {
      gate.mode = 'pass';
    }
    t.is(r.code, 1);
    t.regex(r.stderr, /remote/i);
    t.deepEqual(cachedKeys('native/'), ['native/put.bin']);
    await t.throwsAsync(direct.send(new HeadObjectCommand({ Bucket: B, Key: 'native/never.bin' })), { name: 'NotFound' });
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});

test.serial('shards of a remote bucket: archpath and archregx fetch the shard into the cluster once, then read members from it; a missing shard is 404', async (t) => {
  const files: [string, Buffer][] = [
    ['s/0.jpg', random(5000)],
    ['s/0.cls', Buffer.from('3\n')],
    ['s/1.jpg', random(7000)],
  ];
  const shard = Buffer.concat([...files.flatMap(([n, b]) => [memberHeader(n, b.length, Date.now()), b, padding(b.length)]), TAR_END]);
  await direct.send(new PutObjectCommand({ Bucket: B, Key: 'shards/s-000.tar', Body: shard }));
  const before = gate.objectGets;
  const one = await request(c.primary.url, { method: 'GET', path: `/v1/objects/${B}/shards/s-000.tar?provider=aws&archpath=s/1.jpg` });
  t.is(one.status, 200, one.body.toString().slice(0, 200));
  t.true(one.body.equals(files[2]![1]));
  t.is(gate.objectGets, before + 1, 'the shard fetched once');
  const many = await request(c.primary.url, { method: 'GET', path: `/v1/objects/${B}/shards/s-000.tar?provider=aws&archregx=s/0&archmode=wdskey` });
  t.is(many.status, 200);
  const got: [string, string][] = [];
  for await (const m of streamTar(Readable.from([many.body]), () => true)) got.push([m.name, sha256(m.data!)]);
  t.deepEqual(got, files.slice(0, 2).map(([n, b]): [string, string] => [n, sha256(b)]));
  t.is(gate.objectGets, before + 1, 'read from the cluster copy');
  const none = await request(c.primary.url, { method: 'GET', path: `/v1/objects/${B}/shards/none.tar?provider=aws&archpath=s/1.jpg` });
  t.is(none.status, 404);
});

test.serial('ais evict of a whole bucket: --keep-md empties it and keeps it attached; without it the bucket leaves the cluster; the remote keeps everything', async (t) => {
  let r = await ais('prefetch', `s3://${B}`, '--prefix', 'pf/', '--wait');
  t.is(r.code, 0, r.stderr);
  t.true(cachedKeys('').length >= 20);
  r = await ais('evict', `s3://${B}`, '--keep-md');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `Evicted s3://${B} contents from aistore: the bucket is now empty\n`);
  t.deepEqual(cachedKeys(''), []);
  r = await ais('ls');
  t.regex(r.stdout, new RegExp(`^s3://${B}\\s+yes$`, 'm'));
  // Still attached: a GET fetches again from the remote.
  t.is(sha256(await getBytes('small.txt')), sha256(objects.get('small.txt')!));
  t.deepEqual(cachedKeys(''), ['small.txt']);
  r = await ais('evict', `s3://${B}`);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `Evicted bucket s3://${B} from aistore\n`);
  t.deepEqual(cachedKeys(''), []);
  r = await ais('ls', `s3://${B}`);
  t.is(r.code, 1);
  t.regex(r.stderr, /does not exist/);
  const remote = await direct.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'pf/' }));
  t.is(remote.KeyCount, 20);
  // Not a remote bucket: refused.
  r = await ais('bucket', 'create', 'ais://plainbk');
  t.is(r.code, 0, r.stderr);
  r = await ais('evict', 'ais://plainbk', '--keep-md');
  t.is(r.code, 1);
  t.regex(r.stderr, /not a remote bucket/);
});
