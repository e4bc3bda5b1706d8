// End to end, promote (`ais object promote`, POST /v1/objects/BUCKET {"action":"promote"}) on a proxy and
// two targets that share this machine's filesystem, their promote root a temp dir: files become objects
// on their HRW owners with the bucket's checksum and MD5 ETag; the two targets see the same files (a file
// share) and split the work; one named target promotes everything alone; existing objects are kept
// unless overwritten; sources removed on request; nothing outside the root (by path or by symlink).
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { startCluster, misplacedObjects, logNodesOnFailure, type Cluster } from './helpers/cluster';
import { ROOT, random, request, runScript, s3Client } from './helpers/node';

const B = 'prm';
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');

let c: Cluster;
let s3: S3Client;
let root: string; // the nodes' promote root
let outside: string; // a directory beside it

const ais = (...args: string[]) => runScript(AIS, args, { env: { AIS_ENDPOINT: c.primary.url } });

interface Snap {
  stats: { 'loc-objs': string; 'loc-bytes': string; 'err-objs': string };
  'end-time': string;
  err?: string;
}

async function jobParts(id: string): Promise<Record<string, Snap>> {
  const r = await request(c.primary.url, { method: 'GET', path: `/v1/cluster?what=qryxstats&id=${id}` });
  const out: Record<string, Snap> = {};
  for (const [tid, snaps] of Object.entries(JSON.parse(r.body.toString()) as Record<string, Snap[]>)) if (snaps[0]) out[tid] = snaps[0];
  return out;
}

/** A tree of files under dir: name → bytes. */
function makeTree(dir: string, files: Record<string, number>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [rel, n] of Object.entries(files)) {
    const body = random(n);
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
    out.set(rel, body);
  }
  return out;
}

async function bytes(key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

test.before(async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-promote-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  c = await startCluster({ name: 'prm', targets: 2, env: { AIS_PROMOTE_ROOT: root } });
  s3 = s3Client(c.primary.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after.always(async () => {
  s3?.destroy();
  await c?.stop();
  if (root) fs.rmSync(path.dirname(root), { recursive: true, force: true });
});

test.afterEach.always((t) => logNodesOnFailure(t, c));

test.serial('a directory, recursively, with a prefix: every file an object on its owner (bytes, MD5 ETag); both targets share the work; the files stay', async (t) => {
  const files: Record<string, number> = { 'top.bin': 5000, 'empty.txt': 0 };
  for (let i = 0; i < 30; i++) files[`sub/d${i % 3}/f${i}.bin`] = 1000 + i * 3000;
  files['big/large.bin'] = 9 << 20;
  const tree = makeTree(path.join(root, 'ds'), files);
  const r = await ais('object', 'promote', path.join(root, 'ds'), `ais://${B}/train/`, '-r', '--wait');
  t.is(r.code, 0, r.stderr);
  const id = /xaction ID "([^"]+)"/.exec(r.stdout)?.[1];
  t.truthy(id, r.stdout);
  t.regex(r.stdout, /recursively promoted ".*\/ds" => ais:\/\/prm/);
  const keys = [...tree.keys()].map((k) => `train/${k}`);
  t.deepEqual(await misplacedObjects(c, B, keys), []);
  for (const [rel, body] of tree) {
    const got = await bytes(`train/${rel}`);
    t.true(got.equals(body), rel);
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: `train/${rel}` }));
    t.is(h.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
  }
  // A file share: each target promoted the files it owns, together all of them, once.
  const parts = Object.values(await jobParts(id!));
  t.is(parts.length, 2);
  t.true(parts.every((p) => Number(p.stats['loc-objs']) > 0));
  t.is(parts.reduce((n, p) => n + Number(p.stats['loc-objs']), 0), tree.size);
  t.is(parts.reduce((n, p) => n + Number(p.stats['loc-bytes']), 0), [...tree.values()].reduce((n, b) => n + b.length, 0));
  t.true(fs.existsSync(path.join(root, 'ds', 'top.bin')), 'sources kept');
});

test.serial('not recursive: the top level only; one file by name or into a prefix', async (t) => {
  makeTree(path.join(root, 'flat'), { 'a.txt': 10, 'b.txt': 20, 'nested/c.txt': 30 });
  const r = await ais('object', 'promote', path.join(root, 'flat'), `ais://${B}/flat/`, '--wait');
  t.is(r.code, 0, r.stderr);
  t.is((await bytes('flat/a.txt')).length, 10);
  t.is((await bytes('flat/b.txt')).length, 20);
  await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'flat/nested/c.txt' })), { name: 'NotFound' });
  const one = await ais('object', 'promote', path.join(root, 'flat', 'nested', 'c.txt'), `ais://${B}/renamed.txt`, '--wait');
  t.is(one.code, 0, one.stderr);
  t.is((await bytes('renamed.txt')).length, 30);
  const into = await ais('object', 'promote', path.join(root, 'flat', 'a.txt'), `ais://${B}/into/`, '--wait');
  t.is(into.code, 0, into.stderr);
  t.is((await bytes('into/a.txt')).length, 10);
});

test.serial('existing objects are kept unless --overwrite-dst; --delete-src removes each promoted file', async (t) => {
  const dir = path.join(root, 'ow');
  makeTree(dir, { 'x.bin': 100, 'y.bin': 200 });
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'ow/x.bin', Body: 'kept' }));
  const keep = await ais('object', 'promote', dir, `ais://${B}/ow/`, '--wait');
  t.is(keep.code, 0, keep.stderr);
  t.is((await bytes('ow/x.bin')).toString(), 'kept');
  t.is((await bytes('ow/y.bin')).length, 200);
  const over = await ais('object', 'promote', dir, `ais://${B}/ow/`, '--overwrite-dst', '--delete-src', '--wait');
  t.is(over.code, 0, over.stderr);
  t.is((await bytes('ow/x.bin')).length, 100);
  t.deepEqual(fs.readdirSync(dir), [], 'the promoted files are gone');
});

test.serial('--target-id: that target alone reads the source and sends each file to its owner', async (t) => {
  const tree = makeTree(path.join(root, 'one'), Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 777 + i])));
  const smap = await c.smap();
  const tid = Object.keys(smap.tmap).sort()[0]!;
  const r = await ais('object', 'promote', path.join(root, 'one'), `ais://${B}/one/`, '--target-id', tid, '--wait');
  t.is(r.code, 0, r.stderr);
  const id = /xaction ID "([^"]+)"/.exec(r.stdout)![1]!;
  const parts = await jobParts(id);
  t.deepEqual(Object.keys(parts), [tid]);
  t.is(parts[tid]!.stats['loc-objs'], '16');
  t.deepEqual(await misplacedObjects(c, B, [...tree.keys()].map((k) => `one/${k}`)), []);
  for (const [k, body] of tree) t.true((await bytes(`one/${k}`)).equals(body));
});

test.serial('refused: a relative path, "..", outside the root, a missing source, an empty directory, a bad flag; symlinks inside the root are skipped', async (t) => {
  makeTree(outside, { 'secret.txt': 50 });
  const call = (value: Record<string, unknown>) =>
    request(c.primary.url, { method: 'POST', path: `/v1/objects/${B}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'promote', name: value.src, value }) });
  const rel = await ais('object', 'promote', 'relative/dir', `ais://${B}`);
  t.not(rel.code, 0);
  t.regex(rel.stderr, /absolute path/);
  for (const [src, status, re] of [
    [`${root}/../outside`, 400, /must not contain/],
    [outside, 403, /not under the promote root/],
    [path.join(root, 'nosuch'), 404, /does not exist/],
  ] as const) {
    const r = await call({ src, obj: 'x/' });
    t.is(r.status, status, `${src}: ${r.body.toString()}`);
    t.regex(r.body.toString(), re);
  }
  fs.mkdirSync(path.join(root, 'empty'));
  const empty = await call({ src: path.join(root, 'empty') });
  t.is(empty.status, 404);
  // A link to a file and to a directory outside the root: neither is followed.
  fs.mkdirSync(path.join(root, 'links'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'links', 'secret.txt'));
  fs.symlinkSync(outside, path.join(root, 'links', 'dir'));
  fs.writeFileSync(path.join(root, 'links', 'plain.txt'), 'plain');
  const r = await ais('object', 'promote', path.join(root, 'links'), `ais://${B}/links/`, '-r', '--wait');
  t.is(r.code, 0, r.stderr);
  t.is((await bytes('links/plain.txt')).toString(), 'plain');
  await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'links/secret.txt' })), { name: 'NotFound' });
  await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'links/dir/secret.txt' })), { name: 'NotFound' });
  // The source itself may not be a link that leads out.
  fs.symlinkSync(outside, path.join(root, 'escape'));
  const esc = await call({ src: path.join(root, 'escape'), rcr: true });
  t.is(esc.status, 403);
  const bad = await call({ src: path.join(root, 'flat'), rcr: 'yes' });
  t.is(bad.status, 400);
});
