// End to end, a cluster (a proxy and two targets, started with AIS_ETL_COMMANDS=true): ETLs whose transformers the targets start as local
// processes (src/etl/example-transformer.ts) over AIStore's ws:// and hpush:// protocols, inline
// (GET ?etl_name=) and offline (etl-bck), the copy-bck job, and what goes wrong: a corrupted source, a
// transformer that is too slow or dies, unknown and duplicate ETLs. Everything through the ais CLI or
// raw HTTP on the gateway, results checked byte for byte and on disk.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startCluster, hrwPlacement, type Cluster } from './helpers/cluster';
import { ROOT, request, random, md5, runScript, s3Client, sha256, sleep, type ScriptRun } from './helpers/node';
import { flipByte, objectFile } from './helpers/disk';

const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
const EXAMPLE = path.join(ROOT, 'dist', 'src', 'etl', 'example-transformer.js');

let c: Cluster;
let s3: S3Client;
let work: string;
const objects = new Map<string, Buffer>();

const ais = (...args: string[]): Promise<ScriptRun> => runScript(AIS, args, { cwd: work, env: { AIS_ENDPOINT: c.primary.url } });

const upper = (b: Buffer): Buffer => Buffer.from(b.map((x) => (x >= 0x61 && x <= 0x7a ? x - 0x20 : x)));
const text = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => 'abcdefghij klmnop\n'[(i * 7 + seed) % 18]!).join(''));
const etlGet = (bucket: string, key: string, query: string): Promise<{ status: number; body: Buffer }> =>
  request(c.primary.url, { method: 'GET', path: `/v1/objects/${bucket}/${key}?${query}` });

async function etlInfo(name: string): Promise<Record<string, { stage: string; pid?: number; obj_count: number; err?: string }>> {
  const r = await request(c.primary.url, { method: 'GET', path: `/v1/etl/${name}` });
  if (r.status !== 200) throw new Error(`GET /v1/etl/${name}: ${r.status} ${r.body.toString()}`);
  return (JSON.parse(r.body.toString()) as { targets: Record<string, { stage: string; pid?: number; obj_count: number }> }).targets;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function bucketKeys(bucket: string): Promise<string[]> {
  const r = await ais('ls', `ais://${bucket}`, '--props', 'name', '--no-headers');
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
}

test.before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-etl-'));
  c = await startCluster({ name: 'etl', targets: 2, env: { AIS_ETL_COMMANDS: 'true' } });
  s3 = s3Client(c.primary.url);
  const r = await ais('bucket', 'create', 'ais://src');
  if (r.code !== 0) throw new Error(r.stderr);
  for (let i = 0; i < 16; i++) objects.set(`docs/d${i}.txt`, text(1000 + i * 997, i));
  objects.set('img/big.bin', random(3 << 20));
  objects.set('img/small.jpg', Buffer.from('jpeg bytes, lower case'));
  for (const [k, v] of objects) {
    await s3.send(new PutObjectCommand({ Bucket: 'src', Key: k, Body: v, ...(k.endsWith('.txt') ? { ContentType: 'text/plain', Metadata: { origin: 'e2e', seq: k } } : {}) }));
  }
});

test.after.always(async () => {
  s3?.destroy();
  await ais('etl', 'rm', 'upper-case');
  await c?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test.serial('ais etl init starts a transformer process on every target; show lists it Running', async (t) => {
  const r = await ais('etl', 'init', '--name', 'upper-case', '--', process.execPath, EXAMPLE, 'upper');
  t.is(r.code, 0, r.stderr);
  const info = await etlInfo('upper-case');
  t.is(Object.keys(info).length, 2);
  for (const i of Object.values(info)) {
    t.is(i.stage, 'Running');
    t.true(alive(i.pid!), `transformer pid ${i.pid}`);
  }
  t.not(Object.values(info)[0]!.pid, Object.values(info)[1]!.pid);
  const d = JSON.parse((await request(c.primary.url, { method: 'GET', path: '/v1/etl/upper-case' })).body.toString()) as { init_msg: Record<string, unknown> };
  t.deepEqual(d.init_msg, { name: 'upper-case', communication: 'ws://', runtime: { command: [process.execPath, EXAMPLE, 'upper'] }, init_timeout: '45s', obj_timeout: '10s' });
  const show = await ais('etl', 'show');
  t.regex(show.stdout, /^upper-case\s+Running\s+0\s/m);
  const logs = await ais('etl', 'view-logs', 'upper-case');
  t.is(logs.code, 0, logs.stderr);
  t.regex(logs.stdout, /example-transformer \(upper\) on 127\.0\.0\.1:\d+/);
});

test.serial('inline ETL over ws://: every object comes back transformed, from both targets; etl_args reach the transformer', async (t) => {
  const smap = await c.smap();
  const owners = new Set<string>();
  for (const [k, v] of objects) {
    owners.add(hrwPlacement(smap, c.targets, 'src', k).id);
    const r = await etlGet('src', k, 'etl_name=upper-case');
    t.is(r.status, 200, `${k}: ${r.body.toString().slice(0, 200)}`);
    t.true(r.body.equals(upper(v)), k);
  }
  t.is(owners.size, 2);
  const a = await etlGet('src', 'docs/d3.txt', 'etl_name=upper-case&etl_args=v2');
  t.true(a.body.equals(Buffer.concat([Buffer.from('v2:'), upper(objects.get('docs/d3.txt')!)])));
  const cli = await ais('etl', 'object', 'upper-case', 'ais://src/img/small.jpg', '-');
  t.is(cli.code, 0, cli.stderr);
  t.is(cli.stdout, 'JPEG BYTES, LOWER CASE');
  // A plain GET is untouched.
  const plain = await request(c.primary.url, { method: 'GET', path: '/v1/objects/src/img/small.jpg' });
  t.is(plain.body.toString(), 'jpeg bytes, lower case');
  const info = await etlInfo('upper-case');
  t.is(Object.values(info).reduce((n, i) => n + i.obj_count, 0), objects.size + 2);
});

test.serial('hpush:// ETL (md5 transformer): the answer is the object MD5; a pipeline of two ETLs', async (t) => {
  const r = await ais('etl', 'init', '--name', 'md5-sums', '--comm-type', 'hpush://', '--', process.execPath, EXAMPLE, 'md5');
  t.is(r.code, 0, r.stderr);
  for (const k of ['img/big.bin', 'docs/d0.txt', 'docs/d9.txt']) {
    const g = await etlGet('src', k, 'etl_name=md5-sums');
    t.is(g.status, 200);
    t.is(g.body.toString(), md5(objects.get(k)!));
  }
  // A pipeline: upper-case (ws://), then md5-sums (hpush://).
  const p = await etlGet('src', 'docs/d7.txt', 'etl_name=upper-case&etl_pipeline=md5-sums');
  t.is(p.status, 200);
  t.is(p.body.toString(), md5(upper(objects.get('docs/d7.txt')!)));
  t.is((await etlGet('src', 'docs/d7.txt', 'etl_name=upper-case&etl_pipeline=md5-sums,nope-nope')).status, 404);
  t.is((await ais('etl', 'rm', 'md5-sums')).code, 0);
});

test.serial('etl-bck: ais etl bucket writes every object transformed into a new bucket', async (t) => {
  const r = await ais('etl', 'bucket', 'upper-case', 'ais://src', 'ais://dst-upper', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /etl-bucket\[\w+\]/);
  t.regex(r.stdout, new RegExp(`Total: ${objects.size} objects`));
  t.deepEqual(await bucketKeys('dst-upper'), [...objects.keys()].sort());
  for (const [k, v] of objects) {
    const g = await request(c.primary.url, { method: 'GET', path: `/v1/objects/dst-upper/${k}` });
    t.is(g.status, 200);
    t.true(g.body.equals(upper(v)), k);
  }
  // The destination computes its own checksums and MD5 ETags, as for any PUT.
  const h = await s3.send(new HeadObjectCommand({ Bucket: 'dst-upper', Key: 'docs/d1.txt' }));
  t.is(h.ETag, `"${md5(upper(objects.get('docs/d1.txt')!))}"`);
});

test.serial('copy-bck: ais cp copies bytes, content type and user metadata; --prefix/--prepend; --dry-run writes nothing', async (t) => {
  let r = await ais('cp', 'ais://src', 'ais://dst-copy', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /copy-bucket\[\w+\]/);
  t.deepEqual(await bucketKeys('dst-copy'), [...objects.keys()].sort());
  for (const [k, v] of objects) {
    const g = await request(c.primary.url, { method: 'GET', path: `/v1/objects/dst-copy/${k}` });
    t.is(sha256(g.body), sha256(v), k);
  }
  const h = await s3.send(new HeadObjectCommand({ Bucket: 'dst-copy', Key: 'docs/d5.txt' }));
  t.is(h.ContentType, 'text/plain');
  t.deepEqual(h.Metadata, { origin: 'e2e', seq: 'docs/d5.txt' });
  t.is(h.ETag, `"${md5(objects.get('docs/d5.txt')!)}"`);

  r = await ais('bucket', 'cp', 'ais://src', 'ais://dst-part', '--prefix', 'img/', '--prepend', 'copied/', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.deepEqual(await bucketKeys('dst-part'), ['copied/img/big.bin', 'copied/img/small.jpg']);

  r = await ais('cp', 'ais://src', 'ais://dst-dry', '--dry-run', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, new RegExp(`Total: ${objects.size} objects`));
  const ls = await ais('ls', 'ais://dst-dry');
  t.not(ls.code, 0); // never created
});

test.serial('list/range jobs: copy and transform by --list/--template (a missing name is an error), delete by template', async (t) => {
  let r = await ais('cp', 'ais://src', 'ais://dst-list', '--list', 'docs/d1.txt,img/small.jpg', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /copy-objects\[\w+\]/);
  t.deepEqual(await bucketKeys('dst-list'), ['docs/d1.txt', 'img/small.jpg']);
  r = await ais('etl', 'bucket', 'upper-case', 'ais://src', 'ais://dst-list', '--template', 'docs/d{10..12}.txt', '--prepend', 'up/', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /etl-objects\[\w+\]/);
  for (const i of [10, 11, 12]) {
    const g = await request(c.primary.url, { method: 'GET', path: `/v1/objects/dst-list/up/docs/d${i}.txt` });
    t.true(g.body.equals(upper(objects.get(`docs/d${i}.txt`)!)));
  }
  r = await ais('cp', 'ais://src', 'ais://dst-list', '--list', 'docs/d2.txt,no/such.txt', '--wait');
  t.is(r.code, 1);
  t.regex(r.stdout, /no\/such\.txt: does not exist/);
  t.true((await bucketKeys('dst-list')).includes('docs/d2.txt'));
  // delete-listrange over both targets
  r = await ais('rmo', 'ais://dst-copy', '--template', 'docs/d{0..9}.txt', '--wait');
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /delete-objects\[\w+\]/);
  t.regex(r.stdout, /Total: 10 objects/);
  t.deepEqual(await bucketKeys('dst-copy'), [...objects.keys()].filter((k) => !/^docs\/d\d\.txt$/.test(k)).sort());
});

test.serial('a corrupted source object is neither copied nor transformed; the rest of the job goes on', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'bad/one.txt', Body: text(5000, 3) }));
  await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'bad/two.txt', Body: text(6000, 4) }));
  const smap = await c.smap();
  const where = hrwPlacement(smap, c.targets, 'src', 'bad/one.txt');
  flipByte(objectFile(where.owner, 'src', 'bad/one.txt'), 4000);
  const r = await ais('cp', 'ais://src', 'ais://dst-bad', '--prefix', 'bad/', '--wait');
  t.is(r.code, 1);
  t.regex(r.stdout, /corrupted/);
  t.deepEqual(await bucketKeys('dst-bad'), ['bad/two.txt']);
  const g = await etlGet('src', 'bad/one.txt', 'etl_name=upper-case');
  t.is(g.status, 500);
  t.regex(g.body.toString(), /BAD DATA CHECKSUM/);
  await request(c.primary.url, { method: 'DELETE', path: '/v1/objects/src/bad/one.txt' });
});

test.serial('errors: unknown ETL, bad or taken name, bad spec, etl-bck with an unknown ETL, copy onto itself', async (t) => {
  let g = await etlGet('src', 'docs/d1.txt', 'etl_name=no-such-etl');
  t.is(g.status, 404);
  t.is((JSON.parse(g.body.toString()) as { message: string }).message, 'ETL "no-such-etl" does not exist');
  let r = await ais('etl', 'init', '--name', 'UP', '--', 'true');
  t.is(r.code, 1);
  t.regex(r.stderr, /invalid ETL name/);
  r = await ais('etl', 'init', '--name', 'upper-case', '--', process.execPath, EXAMPLE);
  t.is(r.code, 1);
  t.regex(r.stderr, /already exists/);
  t.true(Object.values(await etlInfo('upper-case')).every((i) => i.stage === 'Running')); // untouched
  const bad = await request(c.primary.url, { method: 'PUT', path: '/v1/etl', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'image-one', runtime: { image: 'aistore/transformer_md5:latest' } }) });
  t.is(bad.status, 400);
  t.regex(bad.body.toString(), /not containers/);
  r = await ais('etl', 'bucket', 'no-such-etl', 'ais://src', 'ais://dst-x');
  t.is(r.code, 1);
  t.regex(r.stderr, /ETL "no-such-etl" does not exist/);
  r = await ais('cp', 'ais://src', 'ais://src');
  t.is(r.code, 1);
  t.regex(r.stderr, /onto itself/);
  // A transformer that never becomes healthy: init fails on every target and leaves nothing behind.
  r = await ais('etl', 'init', '--name', 'never-up', '--init-timeout', '1s', '--', process.execPath, '-e', 'setTimeout(() => {}, 60000)');
  t.is(r.code, 1);
  t.regex(r.stderr, /did not answer GET \/health/);
  g = await request(c.primary.url, { method: 'GET', path: '/v1/etl/never-up' });
  t.is(g.status, 404);
});

test.serial('a slow transformer: the GET fails with 504 after obj_timeout; one that dies: 502, Aborted, and start runs it again', async (t) => {
  let r = await ais('etl', 'init', '--name', 'slow-one', '--obj-timeout', '500ms', '--', process.execPath, EXAMPLE, 'echo', '--delay', '3000');
  t.is(r.code, 0, r.stderr);
  const started = Date.now();
  const g = await etlGet('src', 'docs/d2.txt', 'etl_name=slow-one');
  t.is(g.status, 504);
  t.true(Date.now() - started < 2500);
  t.is((await ais('etl', 'rm', 'slow-one')).code, 0);

  // Kill the transformer of the target that owns docs/d4.txt.
  const smap = await c.smap();
  const owner = hrwPlacement(smap, c.targets, 'src', 'docs/d4.txt').id;
  const pid = (await etlInfo('upper-case'))[owner]!.pid!;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && (await etlInfo('upper-case'))[owner]!.stage !== 'Aborted'; i++) await sleep(100);
  const info = await etlInfo('upper-case');
  t.is(info[owner]!.stage, 'Aborted');
  t.regex(info[owner]!.err ?? '', /exited/);
  const dead = await etlGet('src', 'docs/d4.txt', 'etl_name=upper-case');
  t.is(dead.status, 502);
  t.regex(dead.body.toString(), /not running/);
  r = await ais('etl', 'start', 'upper-case');
  t.is(r.code, 0, r.stderr);
  const back = await etlGet('src', 'docs/d4.txt', 'etl_name=upper-case');
  t.is(back.status, 200);
  t.true(back.body.equals(upper(objects.get('docs/d4.txt')!)));
});

async function until(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function allTransformed(t: import('ava').ExecutionContext): Promise<void> {
  for (const [k, v] of objects) {
    const r = await etlGet('src', k, 'etl_name=upper-case');
    t.is(r.status, 200, `${k}: ${r.body.toString().slice(0, 200)}`);
    t.true(r.body.equals(upper(v)), k);
  }
}

test.serial('the EtlMD: a restarted target starts its ETL again, a target that joins later gets it', async (t) => {
  const before = await etlInfo('upper-case');
  const smap = await c.smap();
  const restarted = hrwPlacement(smap, c.targets, 'src', 'docs/d1.txt');
  await c.targets.find((n) => n === restarted.owner)!.restart();
  await c.settle(2);
  await until('the restarted target to run upper-case', async () => (await etlInfo('upper-case'))[restarted.id]?.stage === 'Running');
  t.not((await etlInfo('upper-case'))[restarted.id]!.pid, before[restarted.id]!.pid);
  await allTransformed(t);
  await c.addTarget();
  await c.settle(3);
  await until('three targets to run upper-case', async () => Object.values(await etlInfo('upper-case')).filter((i) => i.stage === 'Running').length === 3);
  await until('the rebalance to finish', async () => {
    const r = await request(c.primary.url, { method: 'GET', path: '/v1/cluster?what=rmd' });
    return !(JSON.parse(r.body.toString()) as { running?: boolean }).running;
  });
  await allTransformed(t);
});

test.serial('ais etl stop / rm: the transformer processes go; a GET with the ETL is 404 after rm', async (t) => {
  const pids = Object.values(await etlInfo('upper-case')).map((i) => i.pid!);
  let r = await ais('etl', 'stop', 'upper-case');
  t.is(r.code, 0, r.stderr);
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
  t.false(pids.some(alive));
  t.true(Object.values(await etlInfo('upper-case')).every((i) => i.stage === 'Aborted'));
  r = await ais('etl', 'rm', 'upper-case');
  t.is(r.code, 0, r.stderr);
  r = await ais('etl', 'show');
  t.is(r.stdout.trim(), 'No ETLs.');
  const g = await etlGet('src', 'docs/d1.txt', 'etl_name=upper-case');
  t.is(g.status, 404);
});

test.serial('argument fqn: the transformer reads the file the target names (ws:// and hpush://, inline and etl-bck); a corrupted object never reaches it', async (t) => {
  for (const comm of ['ws://', 'hpush://']) {
    const name = `by-path-${comm === 'ws://' ? 'ws' : 'hp'}`;
    let r = await ais('etl', 'init', '--name', name, '--comm-type', comm, '--arg-type', 'fqn', '--', process.execPath, EXAMPLE, 'path');
    t.is(r.code, 0, r.stderr);
    // The answer is the path the transformer was given: the object's file on its owner.
    const smap = await c.smap();
    for (const k of ['docs/d3.txt', 'img/big.bin']) {
      const g = await etlGet('src', k, `etl_name=${name}`);
      t.is(g.status, 200, g.body.toString());
      t.is(g.body.toString(), objectFile(hrwPlacement(smap, c.targets, 'src', k).owner, 'src', k), `${comm} ${k}`);
    }
    t.is((await ais('etl', 'rm', name)).code, 0);
    // The same with a transform: bytes read from the file, a pipeline's next ETL gets bytes.
    r = await ais('etl', 'init', '--name', `${name}-up`, '--comm-type', comm, '--arg-type', 'fqn', '--', process.execPath, EXAMPLE, 'upper');
    t.is(r.code, 0, r.stderr);
    const g = await etlGet('src', 'docs/d5.txt', `etl_name=${name}-up&etl_args=x`);
    t.true(g.body.equals(Buffer.concat([Buffer.from('x:'), upper(objects.get('docs/d5.txt')!)])));
    // A pipeline's later stages get bytes (the first stage's answer), whatever their argument.
    const p = await etlGet('src', 'docs/d6.txt', `etl_name=${name}-up&etl_pipeline=${name}-up&etl_args=y`);
    t.true(p.body.equals(Buffer.concat([Buffer.from('y:Y:'), upper(objects.get('docs/d6.txt')!)])), p.body.toString().slice(0, 80));
    const info = await etlInfo(`${name}-up`);
    t.true(Object.values(info).some((i) => i.obj_count > 0));
  }
  const job = await ais('etl', 'bucket', 'by-path-ws-up', 'ais://src', 'ais://dst-by-path', '--prefix', 'docs/', '--wait');
  t.is(job.code, 0, job.stderr + job.stdout);
  for (const [k, v] of objects) {
    if (!k.startsWith('docs/')) continue;
    const g = await request(c.primary.url, { method: 'GET', path: `/v1/objects/dst-by-path/${k}` });
    t.true(g.body.equals(upper(v)), k);
  }
  // A corrupted object: the target's checksum check stops it before the transformer reads the file.
  await s3.send(new PutObjectCommand({ Bucket: 'src', Key: 'bad/three.txt', Body: text(5000, 5) }));
  flipByte(objectFile(hrwPlacement(await c.smap(), c.targets, 'src', 'bad/three.txt').owner, 'src', 'bad/three.txt'), 10);
  const bad = await etlGet('src', 'bad/three.txt', 'etl_name=by-path-hp-up');
  t.is(bad.status, 500);
  t.regex(bad.body.toString(), /BAD DATA CHECKSUM/);
  const badSpec = await request(c.primary.url, { method: 'PUT', path: '/v1/etl', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'bad-arg', runtime: { command: [process.execPath, EXAMPLE] }, argument: 'url' }) });
  t.is(badSpec.status, 400);
  t.regex(badSpec.body.toString(), /argument \\"url\\"/);
  for (const n of ['by-path-ws-up', 'by-path-hp-up']) await ais('etl', 'rm', n);
  await request(c.primary.url, { method: 'DELETE', path: '/v1/objects/src/bad/three.txt' });
});
