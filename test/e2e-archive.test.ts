// End to end, a cluster (a proxy and two targets): `ais archive bucket` makes .tar shards of objects
// spread over both targets, GNU tar reads them, and files come back out of shards (ours and GNU tar's,
// long names included) with GET ?archpath= and `ais get --archpath`, whole or by range. A missing
// object, a corrupted source and requests for what is not there get their errors and store nothing.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startClusterRig, stopClusterRig, hrwPlacement, type Cluster, type ClusterRig } from './helpers/cluster';
import { request, random, sha256, type ScriptRun } from './helpers/node';
import { flipByte, objectFile } from './helpers/disk';


let rig: ClusterRig | undefined;
let c: Cluster;
let s3: S3Client;
let work: string;
const imgs = new Map<string, Buffer>();
const name = (i: number): string => `img-${String(i).padStart(4, '0')}.jpg`;

const ais = (...args: string[]): Promise<ScriptRun> => rig!.ais(...args);

async function getShard(bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await g.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

const member = (bucket: string, shard: string, file: string, headers?: Record<string, string>) =>
  request(c.primary.url, { method: 'GET', path: `/v1/objects/${bucket}/${shard}?archpath=${encodeURIComponent(file)}`, ...(headers ? { headers } : {}) });

test.before(async () => {
  rig = await startClusterRig('arch', 2, ['imgs', 'shards']);
  ({ c, s3, work } = rig);
  for (let i = 0; i < 30; i++) imgs.set(name(i), random(1000 + ((i * 7919) % 200_000)));
  for (const [k, v] of imgs) await s3.send(new PutObjectCommand({ Bucket: 'imgs', Key: k, Body: v }));
});

test.after.always(() => stopClusterRig(rig));

test.serial('ais archive bucket: a shard of objects from both targets, in template order, that GNU tar reads', async (t) => {
  const smap = await c.smap();
  t.is(new Set([...imgs.keys()].map((k) => hrwPlacement(smap, c.targets, 'imgs', k).id)).size, 2);
  const r = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/train-0000.tar', '--template', 'img-{0000..0029}.jpg', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /archive\[\w+\]/);
  t.regex(r.stdout, /Total: 30 objects/);
  const shard = await getShard('shards', 'train-0000.tar');
  t.truthy(shard);
  const f = path.join(work, 'train-0000.tar');
  fs.writeFileSync(f, shard!);
  t.deepEqual(execFileSync('tar', ['-tf', f], { encoding: 'utf8' }).split('\n').filter(Boolean), [...imgs.keys()]);
  for (const k of ['img-0000.jpg', 'img-0017.jpg', 'img-0029.jpg']) t.is(sha256(execFileSync('tar', ['-xOf', f, k], { maxBuffer: 1 << 24 })), sha256(imgs.get(k)!));
});

test.serial('archpath: one file out of the shard, whole or by range, via the API and ais get --archpath', async (t) => {
  for (const k of ['img-0003.jpg', 'img-0021.jpg']) {
    const g = await member('shards', 'train-0000.tar', k);
    t.is(g.status, 200);
    t.is(sha256(g.body), sha256(imgs.get(k)!));
  }
  const part = await member('shards', 'train-0000.tar', 'img-0009.jpg', { Range: 'bytes=100-499' });
  t.is(part.status, 206);
  t.is(part.headers['content-range'], `bytes 100-499/${imgs.get('img-0009.jpg')!.length}`);
  t.true(part.body.equals(imgs.get('img-0009.jpg')!.subarray(100, 500)));
  const r = await ais('get', 'ais://shards/train-0000.tar', '--archpath', 'img-0012.jpg', 'out.jpg');
  t.is(r.code, 0, r.stderr);
  t.is(sha256(fs.readFileSync(path.join(work, 'out.jpg'))), sha256(imgs.get('img-0012.jpg')!));
});

test.serial("listing with --archive: a shard's files follow it as SHARD.tar/FILE with their sizes", async (t) => {
  let r = await ais('archive', 'ls', 'ais://shards/train-0000.tar', '--no-headers');
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Listed'));
  t.is(lines.length, 31);
  t.regex(lines[0]!, /^train-0000\.tar\s/);
  t.regex(lines[8]!, new RegExp(`^train-0000\\.tar/img-0007\\.jpg\\s+${(imgs.get('img-0007.jpg')!.length / 1024).toFixed(2)}KiB$`));
  r = await ais('ls', 'ais://shards', '--no-headers');
  t.false(r.stdout.includes('train-0000.tar/'), 'no files without --archive');
  const body = JSON.stringify({ action: 'list', value: { props: 'name,size', flags: '8' } });
  const raw = await request(c.primary.url, { method: 'GET', path: '/v1/buckets/shards', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, body });
  const page = JSON.parse(raw.body.toString()) as { entries: { name: string; size: string; flags?: number }[] };
  const shard = page.entries.find((e) => e.name === 'train-0000.tar')!;
  const file = page.entries.find((e) => e.name === 'train-0000.tar/img-0003.jpg')!;
  t.is((shard.flags ?? 0) & 512, 512); // EntryIsArchive
  t.is((file.flags ?? 0) & 128, 128); // EntryInArch
  t.is(Number(file.size), imgs.get('img-0003.jpg')!.length);
});

test.serial('archpath in a shard GNU tar made (pax, a long name in a directory)', async (t) => {
  const src = path.join(work, 'gnu');
  const long = `class-a/${'x'.repeat(120)}/sample.cls`;
  fs.mkdirSync(path.dirname(path.join(src, long)), { recursive: true });
  fs.writeFileSync(path.join(src, long), 'label: 7\n');
  fs.writeFileSync(path.join(src, 'sample.jpg'), imgs.get('img-0001.jpg')!);
  const f = path.join(work, 'gnu.tar');
  execFileSync('tar', ['--format=pax', '-cf', f, '-C', src, 'class-a', 'sample.jpg']);
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'gnu.tar', Body: fs.readFileSync(f) }));
  let g = await member('shards', 'gnu.tar', long);
  t.is(g.status, 200);
  t.is(g.body.toString(), 'label: 7\n');
  g = await member('shards', 'gnu.tar', 'sample.jpg');
  t.is(sha256(g.body), sha256(imgs.get('img-0001.jpg')!));
});

test.serial('.tgz shards: a file out of one (whole and by range), their files listed; a damaged one is 400', async (t) => {
  const src = path.join(work, 'tgz');
  const long = `labels/${'y'.repeat(130)}.json`;
  fs.mkdirSync(path.join(src, 'labels'), { recursive: true });
  fs.writeFileSync(path.join(src, long), '{"label": 3}');
  for (const k of ['img-0005.jpg', 'img-0006.jpg']) fs.writeFileSync(path.join(src, k), imgs.get(k)!);
  const f = path.join(work, 'set.tar.gz');
  execFileSync('tar', ['-czf', f, '-C', src, 'img-0005.jpg', 'labels', 'img-0006.jpg']);
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'set.tar.gz', Body: fs.readFileSync(f) }));
  let g = await member('shards', 'set.tar.gz', 'img-0006.jpg');
  t.is(g.status, 200);
  t.is(sha256(g.body), sha256(imgs.get('img-0006.jpg')!));
  g = await member('shards', 'set.tar.gz', long);
  t.is(g.body.toString(), '{"label": 3}');
  g = await member('shards', 'set.tar.gz', 'img-0005.jpg', { Range: 'bytes=-100' });
  t.is(g.status, 206);
  t.true(g.body.equals(imgs.get('img-0005.jpg')!.subarray(-100)));
  t.is((await member('shards', 'set.tar.gz', 'nope')).status, 404);
  const r = await ais('archive', 'ls', 'ais://shards/set.tar.gz', '--no-headers');
  t.is(r.code, 0, r.stderr);
  t.deepEqual(
    r.stdout.split('\n').filter((l) => l.startsWith('set.tar.gz/')).map((l) => l.split(/\s+/)[0]),
    ['set.tar.gz/img-0005.jpg', `set.tar.gz/${long}`, 'set.tar.gz/img-0006.jpg'],
  );
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'bad.tgz', Body: random(3000) }));
  g = await member('shards', 'bad.tgz', 'a');
  t.is(g.status, 400);
  t.regex(g.body.toString(), /not a readable \.tgz/);
});

test.serial('archpath errors: a missing file 404, an object that is not a tar 400, a name that is not .tar 400', async (t) => {
  let g = await member('shards', 'train-0000.tar', 'nope.jpg');
  t.is(g.status, 404);
  t.regex(g.body.toString(), /nope\.jpg/);
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'fake.tar', Body: random(5000) }));
  g = await member('shards', 'fake.tar', 'a');
  t.is(g.status, 400);
  t.regex(g.body.toString(), /not a readable tar/);
  g = await member('imgs', 'img-0001.jpg', 'a');
  t.is(g.status, 400);
  g = await member('shards', 'absent.tar', 'a');
  t.is(g.status, 404);
});

test.serial('a missing object: the job fails and stores no shard; with --cont-on-err it is skipped', async (t) => {
  let r = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/partial.tar', '--list', 'img-0001.jpg,no-such.jpg,img-0002.jpg', '--wait');
  t.is(r.code, 1);
  t.regex(r.stdout, /no-such\.jpg/);
  t.is(await getShard('shards', 'partial.tar'), undefined);
  r = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/partial.tar', '--list', 'img-0001.jpg,no-such.jpg,img-0002.jpg', '--cont-on-err', '--wait');
  t.is(r.code, 1); // finished, with the skipped object counted as an error
  t.regex(r.stdout, /Total: 2 objects/);
  const f = path.join(work, 'partial.tar');
  fs.writeFileSync(f, (await getShard('shards', 'partial.tar'))!);
  t.deepEqual(execFileSync('tar', ['-tf', f], { encoding: 'utf8' }).split('\n').filter(Boolean), ['img-0001.jpg', 'img-0002.jpg']);
});

test.serial('a corrupted source object aborts the shard: nothing stored', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: 'imgs', Key: 'rotten.jpg', Body: random(300_000) }));
  const smap = await c.smap();
  flipByte(objectFile(hrwPlacement(smap, c.targets, 'imgs', 'rotten.jpg').owner, 'imgs', 'rotten.jpg'), 250_000);
  const r = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/rotten.tar', '--list', 'img-0004.jpg,rotten.jpg,img-0005.jpg', '--wait');
  t.is(r.code, 1);
  t.is(await getShard('shards', 'rotten.tar'), undefined);
});

test.serial('bad archive requests: no .tar name, both list and template, unknown destination', async (t) => {
  let r = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/x.rar', '--list', 'img-0001.jpg');
  t.is(r.code, 1);
  t.regex(r.stderr, /must end with \.tar/);
  r = await ais('archive', 'bucket', 'ais://imgs', 'ais://nowhere/x.tar', '--list', 'img-0001.jpg');
  t.is(r.code, 1);
  t.regex(r.stderr, /does not exist/);
  const raw = await request(c.primary.url, { method: 'PUT', path: '/v1/buckets/imgs', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'archive', value: { archname: 'y.tar', objnames: ['a'], template: 'b-{0..1}' } }) });
  t.is(raw.status, 400);
  t.regex(raw.body.toString(), /one of objnames and template/);
});

/** GET ?archregx=&archmode= (query values as given, encoded here). */
const many = (shard: string, q: Record<string, string>) =>
  request(c.primary.url, { method: 'GET', path: `/v1/objects/shards/${shard}?${new URLSearchParams(q).toString()}` });

/** The files of a tar (as GNU tar reads it) with their sha256. */
function tarFiles(tarBytes: Buffer): [string, string][] {
  const f = path.join(work, `resp-${Math.random().toString(36).slice(2)}.tar`);
  fs.writeFileSync(f, tarBytes);
  const names = execFileSync('tar', ['-tf', f], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const out = names.map((n): [string, string] => [n, sha256(execFileSync('tar', ['-xOf', f, n], { maxBuffer: 1 << 26 }))]);
  fs.rmSync(f);
  return out;
}

test.serial('archregx: the files of a WebDataset shard that match, as one tar GNU tar reads, in every match mode', async (t) => {
  // A WebDataset layout made by GNU tar: samples a/000 and a/001 (jpg, json, cls), a long-named file, b/x.txt.
  const src = path.join(work, 'wds');
  const files = new Map<string, Buffer>();
  const long = `a/${'z'.repeat(110)}.json`;
  for (const k of ['a/000.jpg', 'a/000.json', 'a/000.cls', 'a/001.jpg', 'a/001.json', long, 'b/x.txt']) files.set(k, random(k.endsWith('.jpg') ? 1_500_000 + k.length : 100 + k.length));
  for (const [k, v] of files) {
    fs.mkdirSync(path.dirname(path.join(src, k)), { recursive: true });
    fs.writeFileSync(path.join(src, k), v);
  }
  const f = path.join(work, 'wds.tar');
  execFileSync('tar', ['--format=pax', '-cf', f, '-C', src, ...files.keys()]);
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'wds-0000.tar', Body: fs.readFileSync(f) }));
  const expect = (names: string[]) => names.map((n): [string, string] => [n, sha256(files.get(n)!)]);
  const cases: [Record<string, string>, string[]][] = [
    [{ archregx: 'a/000', archmode: 'wdskey' }, ['a/000.jpg', 'a/000.json', 'a/000.cls']],
    [{ archregx: '.json', archmode: 'suffix' }, ['a/000.json', 'a/001.json', long]],
    [{ archregx: 'b/', archmode: 'prefix' }, ['b/x.txt']],
    [{ archregx: 'zzzz', archmode: 'substr' }, [long]],
    [{ archregx: '^a/00[01]\\.jpg$', archmode: 'regexp' }, ['a/000.jpg', 'a/001.jpg']],
    [{ archregx: '\\.cls$' }, ['a/000.cls']], // no archmode: a regular expression
    [{ archregx: '', archmode: 'prefix' }, [...files.keys()]],
  ];
  for (const [q, names] of cases) {
    const g = await many('wds-0000.tar', q);
    t.is(g.status, 200, JSON.stringify(q));
    t.is(g.headers['content-type'], 'application/x-tar');
    t.is(Number(g.headers['content-length']), g.body.length);
    t.deepEqual(tarFiles(g.body), expect(names), JSON.stringify(q));
  }
  const r = await ais('get', 'ais://shards/wds-0000.tar', '--archregx', 'a/001', '--archmode', 'wdskey', 'sample.tar');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /files matching "a\/001" \(wdskey\)/);
  t.deepEqual(tarFiles(fs.readFileSync(path.join(work, 'sample.tar'))), expect(['a/001.jpg', 'a/001.json']));
  // The same shard gzipped.
  const gz = path.join(work, 'wds.tgz');
  execFileSync('tar', ['--format=pax', '-czf', gz, '-C', src, ...files.keys()]);
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'wds-0000.tgz', Body: fs.readFileSync(gz) }));
  const g = await many('wds-0000.tgz', { archregx: 'a/000', archmode: 'wdskey' });
  t.is(g.status, 200);
  t.deepEqual(tarFiles(g.body), expect(['a/000.jpg', 'a/000.json', 'a/000.cls']));
});

test.serial('archregx errors: no match 404, a bad mode or expression 400, with archpath 400, not a shard 400, no object 404', async (t) => {
  const cases: [string, Record<string, string>, number, RegExp][] = [
    ['wds-0000.tar', { archregx: 'c/', archmode: 'prefix' }, 404, /files matching/],
    ['wds-0000.tgz', { archregx: 'nope', archmode: 'wdskey' }, 404, /files matching/],
    ['wds-0000.tar', { archregx: 'a', archmode: 'glob' }, 400, /invalid archmode \\"glob\\"/],
    ['wds-0000.tar', { archregx: 'a(', archmode: 'regexp' }, 400, /invalid regular expression/],
    ['wds-0000.tar', { archregx: 'a', archmode: 'prefix', archpath: 'b/x.txt' }, 400, /mutually exclusive/],
    ['img.bin', { archregx: 'a', archmode: 'prefix' }, 400, /not a shard/],
    ['none.tar', { archregx: 'a', archmode: 'prefix' }, 404, /none\.tar/],
  ];
  for (const [shard, q, status, msg] of cases) {
    const g = await many(shard, q);
    t.is(g.status, status, `${shard} ${JSON.stringify(q)}`);
    t.regex(g.body.toString(), msg);
  }
  const r = await ais('get', 'ais://shards/wds-0000.tar', '--archregx', 'a', '--archpath', 'b/x.txt', 'x.tar');
  t.not(r.code, 0);
  t.regex(r.stderr, /mutually exclusive/);
});

test.serial('ais archive bucket to a .tgz: a gzipped tar GNU tar reads, files back out by archpath and archregx; a missing object stores nothing', async (t) => {
  const r = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/train-0001.tgz', '--template', 'img-{0010..0019}.jpg', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /Total: 10 objects/);
  const shard = (await getShard('shards', 'train-0001.tgz'))!;
  t.deepEqual([...shard.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
  const f = path.join(work, 'train-0001.tgz');
  fs.writeFileSync(f, shard);
  const names = [...imgs.keys()].slice(10, 20);
  t.deepEqual(execFileSync('tar', ['-tzf', f], { encoding: 'utf8' }).split('\n').filter(Boolean), names);
  for (const k of names) t.is(sha256(execFileSync('tar', ['-xzOf', f, k], { maxBuffer: 1 << 24 })), sha256(imgs.get(k)!));
  const g = await member('shards', 'train-0001.tgz', 'img-0015.jpg');
  t.is(g.status, 200);
  t.is(sha256(g.body), sha256(imgs.get('img-0015.jpg')!));
  t.is((await many('train-0001.tgz', { archregx: 'img-001', archmode: 'wdskey' })).status, 404, 'wdskey is the whole key: no partial matches');
  t.deepEqual(tarFiles((await many('train-0001.tgz', { archregx: 'img-001[23]\\.jpg' })).body).map(([n]) => n), ['img-0012.jpg', 'img-0013.jpg']);
  // .tar.gz by name, a mime that disagrees with the name, a member missing.
  const raw = (value: Record<string, unknown>) =>
    request(c.primary.url, { method: 'PUT', path: '/v1/buckets/imgs', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'archive', value: { objnames: ['img-0001.jpg'], tobck: { name: 'shards' }, ...value } }) });
  const bad = await raw({ archname: 'z.tar.gz', mime: '.tar' });
  t.is(bad.status, 400);
  t.regex(bad.body.toString(), /does not match archname/);
  const miss = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/broken.tar.gz', '--list', 'img-0001.jpg,no-such.jpg', '--wait');
  t.not(miss.code, 0);
  t.is(await getShard('shards', 'broken.tar.gz'), undefined, 'no shard stored');
});

test.serial('.zip shards (made by Python\'s zipfile: stored, deflated, ZIP64 records): archpath, archregx, listing; a damaged member is 400', async (t) => {
  const src = path.join(work, 'zipsrc');
  fs.mkdirSync(src, { recursive: true });
  const files = new Map<string, Buffer>([
    ['s/000.jpg', imgs.get('img-0003.jpg')!],
    ['s/000.json', Buffer.from('{"label": 1}\n'.repeat(500))],
    ['s/001.jpg', imgs.get('img-0004.jpg')!],
    ['s/ünï.txt', Buffer.from('utf-8 name\n')],
  ]);
  for (const [i, [, v]] of [...files].entries()) fs.writeFileSync(path.join(src, `f${i}`), v);
  // Member i from file f<i>; .jpg stored, the rest deflated; the second zip with ZIP64 records forced.
  const script = (out: string, zip64: boolean) => `
import zipfile, sys
names = sys.argv[1:]
if ${zip64 ? 'True' : 'False'}:
    # Small limits make zipfile write what it writes past 4 GiB or 65,535 members: ZIP64 sizes and offsets, its end records.
    zipfile.ZIP64_LIMIT = 1000
    zipfile.ZIP_FILECOUNT_LIMIT = 2
with zipfile.ZipFile(${JSON.stringify(out)}, 'w') as z:
    for i, n in enumerate(names):
        method = zipfile.ZIP_STORED if n.endswith('.jpg') else zipfile.ZIP_DEFLATED
        info = zipfile.ZipInfo(n, (2024, 1, 1, 0, 0, 0)); info.compress_type = method
        with z.open(info, 'w', force_zip64=${zip64 ? 'True' : 'False'}) as w:
            w.write(open(${JSON.stringify(src)} + '/f%d' % i, 'rb').read())
    z.writestr('s/', b'')
`;
  for (const [key, zip64] of [['set.zip', false], ['set64.zip', true]] as const) {
    const out = path.join(work, key);
    execFileSync('python3', ['-c', script(out, zip64), ...files.keys()]);
    t.is(fs.readFileSync(out).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), zip64, 'ZIP64 end record when forced');
    await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: key, Body: fs.readFileSync(out) }));
    for (const [n, v] of files) {
      const g = await member('shards', key, n);
      t.is(g.status, 200, `${key} ${n}`);
      t.is(sha256(g.body), sha256(v), `${key} ${n}`);
    }
    const part = await member('shards', key, 's/000.json', { Range: 'bytes=10-19' });
    t.is(part.status, 206);
    t.true(part.body.equals(files.get('s/000.json')!.subarray(10, 20)));
    t.is((await member('shards', key, 's/')).status, 404, 'directories are not files');
    const g = await many(key, { archregx: 's/000', archmode: 'wdskey' });
    t.is(g.status, 200);
    t.deepEqual(tarFiles(g.body), ['s/000.jpg', 's/000.json'].map((n): [string, string] => [n, sha256(files.get(n)!)]));
  }
  const r = await ais('archive', 'ls', 'ais://shards/set.zip', '--no-headers');
  t.is(r.code, 0, r.stderr);
  t.deepEqual(
    r.stdout.split('\n').filter((l) => l.startsWith('set.zip/')).map((l) => l.split(/\s+/)[0]),
    [...files.keys()].map((n) => `set.zip/${n}`),
  );
  // A byte of the deflated json flipped inside the zip: its CRC-32 no longer matches.
  const zipBytes = fs.readFileSync(path.join(work, 'set.zip'));
  const at = zipBytes.indexOf(Buffer.from('s/000.json')) + 's/000.json'.length + 20;
  zipBytes[at] = zipBytes[at]! ^ 0xff;
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'damaged.zip', Body: zipBytes }));
  const bad = await member('shards', 'damaged.zip', 's/000.json');
  t.is(bad.status, 400);
  t.regex(bad.body.toString(), /not a readable \.zip/);
  t.is((await member('shards', 'damaged.zip', 's/001.jpg')).status, 200, 'the other members are fine');
  await s3.send(new PutObjectCommand({ Bucket: 'shards', Key: 'junk.zip', Body: random(5000) }));
  t.regex((await member('shards', 'junk.zip', 'a')).body.toString(), /no end of central directory/);
});

test.serial('ais archive bucket to a .zip: Python\'s zipfile reads it (names, CRCs, bytes), and so do archpath and archregx', async (t) => {
  const r = await ais('archive', 'bucket', 'ais://imgs', 'ais://shards/train-0002.zip', '--template', 'img-{0020..0029}.jpg', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /Total: 10 objects/);
  const shard = (await getShard('shards', 'train-0002.zip'))!;
  const f = path.join(work, 'train-0002.zip');
  fs.writeFileSync(f, shard);
  const names = [...imgs.keys()].slice(20, 30);
  // testzip() checks every member's CRC-32; then each member's bytes as a hash.
  const py = `
import zipfile, hashlib, sys
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist():
    print(i.filename, hashlib.sha256(z.read(i)).hexdigest(), i.compress_type)
`;
  const lines = execFileSync('python3', ['-c', py, f], { encoding: 'utf8' }).trim().split('\n');
  t.deepEqual(lines, names.map((n) => `${n} ${sha256(imgs.get(n)!)} 0`));
  const g = await member('shards', 'train-0002.zip', 'img-0025.jpg');
  t.is(g.status, 200);
  t.is(sha256(g.body), sha256(imgs.get('img-0025.jpg')!));
  t.deepEqual(tarFiles((await many('train-0002.zip', { archregx: 'img-002[01]', archmode: 'regexp' })).body).map(([n]) => n), ['img-0020.jpg', 'img-0021.jpg']);
});
