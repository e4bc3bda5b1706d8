// End to end, a cluster (a proxy and two targets): AIStore's rename-obj (POST /v1/objects/B/O and `ais
// object mv`) moves an object to a new name whose owner is the other target or the same one, with its
// bytes, content type, user metadata and tags; the old name is gone from disk and from listings. Bad
// renames (missing source, to self, no name, other actions, a corrupted source) get their
// errors and change nothing.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startClusterRig, stopClusterRig, hrwPlacement, type Cluster, type ClusterRig } from './helpers/cluster';
import { request, random, sha256, type ScriptRun } from './helpers/node';
import { flipByte } from './helpers/disk';

const B = 'mv';

let rig: ClusterRig | undefined;
let c: Cluster;
let s3: S3Client;

const ais = (...args: string[]): Promise<ScriptRun> => rig!.ais(...args);
const rename = (from: string, body: unknown, bucket = B) =>
  request(c.primary.url, { method: 'POST', path: `/v1/objects/${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

async function get(key: string): Promise<Buffer | undefined> {
  try {
    const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
    return Buffer.from(await g.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

async function keys(): Promise<string[]> {
  const l = await s3.send(new ListObjectsV2Command({ Bucket: B }));
  return (l.Contents ?? []).map((o) => o.Key!).sort();
}

/** A new name for `from` whose HRW owner is (`same`) or is not the owner of `from`. */
async function nameOwned(from: string, same: boolean, stem: string): Promise<string> {
  const smap = await c.smap();
  const owner = hrwPlacement(smap, c.targets, B, from).id;
  for (let i = 0; i < 1000; i++) {
    const k = `${stem}-${i}.bin`;
    if ((hrwPlacement(smap, c.targets, B, k).id === owner) === same) return k;
  }
  throw new Error('no such name');
}

test.before(async () => {
  rig = await startClusterRig('rename', 2, [B]);
  ({ c, s3 } = rig);
});

test.after.always(() => stopClusterRig(rig));

for (const same of [false, true]) {
  test.serial(`rename-obj to a name owned by ${same ? 'the same' : 'the other'} target: bytes, content type, metadata and tags move; the old name is gone`, async (t) => {
    const from = `src-${same ? 'same' : 'other'}.bin`;
    const data = random(3 * 1024 * 1024 + 17);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: from, Body: data, ContentType: 'image/x-test', Metadata: { label: 'cat' }, Tagging: 'split=train&v=2' }));
    const to = await nameOwned(from, same, `dst-${same ? 'same' : 'other'}`);
    const smap = await c.smap();
    const oldFile = hrwPlacement(smap, c.targets, B, from).file;
    t.true(fs.existsSync(oldFile));

    const r = await rename(from, { action: 'rename-obj', name: to });
    t.is(r.status, 200, r.body.toString());
    t.is(sha256((await get(to))!), sha256(data));
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: to }));
    t.is(h.ContentType, 'image/x-test');
    t.deepEqual(h.Metadata, { label: 'cat' });
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: to }));
    t.deepEqual(tags.TagSet?.map((x) => `${x.Key}=${x.Value}`).sort(), ['split=train', 'v=2']);
    t.is(await get(from), undefined);
    t.false(fs.existsSync(oldFile), 'the source file is removed');
    t.true(fs.existsSync(hrwPlacement(smap, c.targets, B, to).file), 'the new name is on its HRW owner');
    t.false((await keys()).includes(from));
  });
}

test.serial('ais object mv: by new name or full URI, then the object reads back; same name and other bucket refused', async (t) => {
  const data = random(100_000);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'dir/a.txt', Body: data }));
  let r = await ais('object', 'mv', `ais://${B}/dir/a.txt`, 'dir/b.txt');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /moved to ais:\/\/mv\/dir\/b\.txt/);
  r = await ais('object', 'mv', `ais://${B}/dir/b.txt`, `ais://${B}/other/c.txt`);
  t.is(r.code, 0, r.stderr);
  t.is(sha256((await get('other/c.txt'))!), sha256(data));
  t.is(await get('dir/a.txt'), undefined);
  t.is(await get('dir/b.txt'), undefined);
  r = await ais('object', 'mv', `ais://${B}/other/c.txt`, 'other/c.txt');
  t.is(r.code, 2);
  t.regex(r.stderr, /same object/);
  r = await ais('object', 'mv', `ais://${B}/other/c.txt`, 'ais://elsewhere/c.txt');
  t.is(r.code, 2);
  t.regex(r.stderr, /another bucket/);
  r = await ais('object', 'mv', `ais://${B}/nope.txt`, 'x.txt');
  t.is(r.code, 1);
  t.regex(r.stderr, /does not exist/);
  t.is(sha256((await get('other/c.txt'))!), sha256(data));
});

test.serial('bad renames change nothing: missing source, to self, no name, other actions, malformed JSON, unknown bucket', async (t) => {
  const data = random(5000);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'keep.bin', Body: data }));
  const before = await keys();
  let r = await rename('absent.bin', { action: 'rename-obj', name: 'x.bin' });
  t.is(r.status, 404);
  r = await rename('keep.bin', { action: 'rename-obj', name: 'keep.bin' });
  t.is(r.status, 400);
  t.regex(r.body.toString(), /to self/);
  r = await rename('keep.bin', { action: 'rename-obj' });
  t.is(r.status, 400);
  r = await rename('keep.bin', { action: 'promote', name: '/tmp/x' });
  t.is(r.status, 501);
  r = await request(c.primary.url, { method: 'POST', path: `/v1/objects/${B}/keep.bin`, headers: { 'Content-Type': 'application/json' }, body: '{not json' });
  t.is(r.status, 400);
  r = await rename('keep.bin', { action: 'rename-obj', name: 'y.bin' }, 'nosuchbucket');
  t.is(r.status, 404);
  t.deepEqual(await keys(), before);
  t.is(sha256((await get('keep.bin'))!), sha256(data));
});

test.serial('a new name with "." and ".." segments is a name: stored inside the bucket, read by that key, renamed back', async (t) => {
  const data = random(70_000);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'plain.bin', Body: data }));
  const odd = '../../a/./escape.bin';
  let r = await rename('plain.bin', { action: 'rename-obj', name: odd });
  t.is(r.status, 200, r.body.toString());
  t.is(sha256((await get(odd))!), sha256(data));
  t.true((await keys()).includes(odd));
  const found = c.targets.flatMap((n) => n.dirs.mountpaths.flatMap((mp) => (fs.readdirSync(mp, { recursive: true }) as string[]).filter((f) => f.endsWith('escape.bin')).map((f) => path.join(mp, f))));
  t.is(found.length, 1);
  t.regex(found[0]!, new RegExp(`/@ais/${B}/%ob/`), 'the file is inside the bucket folder');
  r = await request(c.primary.url, { method: 'POST', path: `/v1/objects/${B}/${encodeURIComponent(odd)}`, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'rename-obj', name: 'plain.bin' }) });
  t.is(r.status, 200, r.body.toString());
  t.is(sha256((await get('plain.bin'))!), sha256(data));
  t.false((await keys()).includes(odd));
});

test.serial('a corrupted source is not renamed: 500, the source stays, nothing under the new name', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'rotten.bin', Body: random(2 * 1024 * 1024) }));
  const smap = await c.smap();
  flipByte(hrwPlacement(smap, c.targets, B, 'rotten.bin').file, 1_500_000);
  const to = await nameOwned('rotten.bin', false, 'fresh');
  const r = await rename('rotten.bin', { action: 'rename-obj', name: to });
  t.is(r.status, 500);
  t.regex(r.body.toString(), /corrupted/);
  t.true(fs.existsSync(hrwPlacement(smap, c.targets, B, 'rotten.bin').file));
  t.false((await keys()).includes(to));
});

test.serial('the rename counter is exported', async (t) => {
  let total = 0;
  for (const n of c.targets) {
    const m = await request(n.url, { method: 'GET', path: '/metrics' });
    const line = /^ais_target_rename_count\{[^}]*\} (\d+)$/m.exec(m.body.toString());
    t.truthy(line);
    total += Number(line![1]);
  }
  t.is(total, 6); // two renames by the API, two by ais object mv, two of the dotted name
});
