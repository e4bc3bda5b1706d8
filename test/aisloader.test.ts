// Smoke test of the aisloader bin against a real tais node: a short PUT+GET run with -json reports
// requests and no errors, the objects it wrote are really in the bucket (listed, with the bytes the
// seed defines), a GET-only run reads them, and -cleanup deletes what a run wrote; through the native
// API (the default) and the S3 API (-s3).
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { startTais, tempDir, cleanupAll, AISLOADER, type TaisNode } from '../bench/lib/servers';
import { startCluster } from './helpers/cluster';
import { request } from './helpers/node';
import { makePayload, objectBytes, objectName, objectOffset, objectSize, ringSize } from '../src/loader/payload';
import type { RunResult } from '../src/loader/run';

let node: TaisNode;

test.before(async () => {
  node = await startTais(tempDir('aisloader-test'), { mountpaths: 2 });
});

test.after.always(async () => {
  await cleanupAll();
});

function loader(args: string[], endpoint = node.url): Promise<{ code: number; result: RunResult; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [AISLOADER, '-endpoint', endpoint, '-json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      try {
        resolve({ code: code ?? -1, result: JSON.parse(out) as RunResult, stderr: err });
      } catch {
        reject(new Error(`aisloader exited ${code}, no JSON:\n${err}\n${out}`));
      }
    });
  });
}

function get(p: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${node.url}${p}`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** Keys under a prefix, through ListObjectsV2 (all pages). */
async function list(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token = '';
  for (;;) {
    const q = new URLSearchParams({ 'list-type': '2', prefix });
    if (token) q.set('continuation-token', token);
    const r = await get(`/s3/${bucket}?${q.toString()}`);
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.body.toString()}`);
    const xml = r.body.toString();
    for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(m[1]);
    const next = /<NextContinuationToken>([^<]*)</.exec(xml)?.[1];
    if (!next) return keys;
    token = next;
  }
}

test.serial('PUT+GET for 2 s: counts, no errors, objects listed with the seeded bytes; then GET-only reads them', async (t) => {
  const seed = 4242;
  const { code, result: r, stderr } = await loader([
    '-bucket', 'ais://smoke', '-duration', '2s', '-numworkers', '4', '-pctput', '50',
    '-minsize', '4KiB', '-maxsize', '64KiB', '-subdir', 'mixed', '-seed', String(seed), '-statsinterval', '1',
  ]);
  t.is(code, 0, stderr);
  t.is(r.config.api, 'native');
  t.regex(stderr, /\/v1\/objects\/smoke \(native\)/);
  t.true(r.put.count > 0, 'PUTs done');
  t.true(r.get.count > 0, 'GETs done');
  t.is(r.put.errors, 0, JSON.stringify(r.errors));
  t.is(r.get.errors, 0, JSON.stringify(r.errors));
  t.deepEqual(r.errors, {});
  t.is(r.written, r.put.count);
  t.true(r.put.bytes >= r.put.count * 4096 && r.put.bytes <= r.put.count * 65536);
  t.true(r.put.latencyMs.min > 0 && r.put.latencyMs.min <= r.put.latencyMs.p50 && r.put.latencyMs.p50 <= r.put.latencyMs.max);
  t.regex(stderr, /PUT/, 'periodic lines on stderr with -json');

  const keys = await list('smoke', 'mixed/');
  t.is(keys.length, r.written, 'every PUT is in the bucket');
  // Objects are numbered from 0: object 0 holds the bytes the seed defines.
  const first = keys.find((k) => k.endsWith('-00000000'));
  t.truthy(first);
  const size = objectSize(seed, 0, 4096, 65536);
  const ring = makePayload(seed, 65536).buf;
  t.is(ring.length, ringSize(65536));
  const want = objectBytes(ring, objectOffset(seed, 0, size, ring.length), size);
  const got = await get(`/s3/smoke/${first}`);
  t.is(got.status, 200);
  t.true(got.body.equals(want), 'object content is what the seed defines');

  const ro = await loader(['-bucket', 'smoke', '-duration', '1s', '-numworkers', '2', '-pctput', '0', '-subdir', 'mixed', '-readoff', '100', '-readlen', '1000']);
  t.is(ro.code, 0, ro.stderr);
  t.is(ro.result.getPool, keys.length, 'GET-only run lists the bucket');
  t.true(ro.result.get.count > 0);
  t.is(ro.result.get.errors, 0, JSON.stringify(ro.result.errors));
  t.is(ro.result.get.bytes, ro.result.get.count * 1000, 'range reads of -readlen bytes');
  t.is(ro.result.put.count, 0);
});

for (const api of ['native', 's3'] as const) {
  test.serial(`-cleanup deletes what the run wrote, and only that (${api} API)`, async (t) => {
    const before = await list('smoke', '');
    const { code, result: r, stderr } = await loader([
      '-bucket', 'smoke', '-duration', '2s', '-numworkers', '3', '-pctput', '100', '-minsize', '1KiB', '-maxsize', '8KiB', '-subdir', 'clean', '-cleanup', '-threads', '2',
      ...(api === 's3' ? ['-s3'] : []),
    ]);
    t.is(code, 0, stderr);
    t.is(r.config.api, api);
    t.true(r.put.count > 0);
    t.is(r.put.errors, 0, JSON.stringify(r.errors));
    t.is(r.config.threads, 2);
    t.deepEqual(r.cleanup, { deleted: r.written, errors: 0 });
    t.deepEqual(await list('smoke', 'clean/'), [], 'nothing left under the run\'s subdir');
    t.deepEqual(await list('smoke', ''), before, 'other objects untouched');
  });
}

test.serial('-maxputs writes exactly that many objects across threads, then stops', async (t) => {
  const { code, result: r, stderr } = await loader(['-s3', '-bucket', 'smoke', '-pctput', '100', '-maxputs', '37', '-numworkers', '5', '-threads', '2', '-minsize', '1KiB', '-maxsize', '1KiB', '-subdir', 'max', '-seed', '7']);
  t.is(code, 0, stderr);
  t.is(r.put.count, 37);
  const keys = await list('smoke', 'max/');
  t.is(keys.length, 37);
  t.deepEqual(keys, Array.from({ length: 37 }, (_, i) => `max/00000007-${i.toString(16).padStart(8, '0')}`).sort());
});

test.serial('-chunked PUTs (Transfer-Encoding: chunked) store the same bytes', async (t) => {
  const { code, result: r, stderr } = await loader(['-bucket', 'smoke', '-pctput', '100', '-maxputs', '5', '-numworkers', '2', '-minsize', '100KiB', '-maxsize', '300KiB', '-subdir', 'chunked', '-seed', '11', '-chunked']);
  t.is(code, 0, stderr);
  t.is(r.put.count, 5);
  const ring = makePayload(11, 300 * 1024).buf;
  for (let i = 0; i < 5; i++) {
    const size = objectSize(11, i, 100 * 1024, 300 * 1024);
    const got = await get(`/s3/smoke/chunked/0000000b-${i.toString(16).padStart(8, '0')}`);
    t.is(got.status, 200);
    t.true(got.body.equals(objectBytes(ring, objectOffset(11, i, size, ring.length), size)), `object ${i}`);
  }
});

test.serial('GET-only run on an empty bucket explains what to do', async (t) => {
  const p = spawn(process.execPath, [AISLOADER, '-endpoint', node.url, '-bucket', 'emptyb', '-pctput', '0', '-duration', '1s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
  t.is(code, 1);
  t.regex(err, /nothing to GET.*-pctput 100 -maxputs/);
});

test.serial('redirect mode (proxy.s3_redirect): PUTs and GETs follow the 307 to the owner target, bodies re-sent', async (t) => {
  const cluster = await startCluster({ name: 'loader-redir', targets: 2, mountpaths: 1, config: { proxy: { s3_redirect: true } } });
  try {
    const proxy = cluster.primary.url;
    const r = await loader(['-s3', '-bucket', 'redir', '-duration', '2s', '-numworkers', '4', '-pctput', '50', '-minsize', '3KiB', '-maxsize', '300KiB', '-seed', '7'], proxy);
    t.is(r.code, 0, r.stderr);
    t.deepEqual(r.result.errors, {});
    t.true(r.result.put.count > 0 && r.result.get.count > 0, JSON.stringify({ put: r.result.put.count, get: r.result.get.count }));
    // The proxy really redirects, and what the loader wrote is on the targets with the seeded bytes.
    const payload = makePayload(7, 300 * 1024);
    let checked = 0;
    for (let i = 0; i < Math.min(5, r.result.written); i++) {
      const name = objectName('', 7, i);
      const via = await request(proxy, { method: 'GET', path: `/s3/redir/${name}` });
      t.is(via.status, 307);
      const loc = new URL(String(via.headers.location));
      const got = await request(loc.origin, { method: 'GET', path: loc.pathname + loc.search });
      t.is(got.status, 200);
      const size = objectSize(7, i, 3 * 1024, 300 * 1024);
      t.true(got.body.equals(objectBytes(payload.buf, objectOffset(7, i, size, payload.buf.length), size)), name);
      checked++;
    }
    t.true(checked > 0);
    // The native API through the same gateway: GETs read what the S3 run wrote (listed natively).
    const n = await loader(['-bucket', 'ais://redir', '-duration', '1s', '-numworkers', '4', '-pctput', '0', '-readoff', '1000', '-readlen', '2000'], proxy);
    t.is(n.code, 0, n.stderr);
    t.deepEqual(n.result.errors, {});
    t.is(n.result.getPool, r.result.written);
    t.true(n.result.get.count > 0);
    t.is(n.result.get.bytes, n.result.get.count * 2000);
  } finally {
    await cluster.stop();
  }
});

test.serial('-etl: GETs go through an ETL of the cluster, or a built-in one started for the run and removed after; -etlspec; bad combinations refused', async (t) => {
  const etlNode = await startTais(tempDir('aisloader-etl'), { etlCommands: true });
  const put = await loader(['-bucket', 'etlb', '-pctput', '100', '-maxputs', '12', '-minsize', '64KiB', '-maxsize', '64KiB', '-duration', '0', '-seed', '7'], etlNode.url);
  t.is(put.code, 0, put.stderr);
  const json = (method: string, p: string, body?: unknown) =>
    request(etlNode.url, { method, path: p, ...(body !== undefined ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}) });
  // An ETL of the cluster: its counters count the loader's GETs.
  const example = AISLOADER.replace(/cmd\/aisloader\.js$/, 'etl/example-transformer.js');
  t.is((await json('PUT', '/v1/etl', { name: 'md5-of-mine', runtime: { command: [process.execPath, example, 'md5'] } })).status, 200);
  const r = await loader(['-bucket', 'etlb', '-pctput', '0', '-duration', '2s', '-numworkers', '4', '-etl', 'md5-of-mine'], etlNode.url);
  t.is(r.code, 0, r.stderr);
  t.is(r.result.config.etl, 'md5-of-mine');
  t.true(r.result.get.count > 0);
  t.is(r.result.get.errors, 0);
  // The answers are MD5s (32 bytes), not the 64 KiB objects.
  t.is(r.result.get.bytes, r.result.get.count * 32);
  const info = JSON.parse((await json('GET', '/v1/etl/md5-of-mine')).body.toString()) as { targets: Record<string, { obj_count: number }> };
  t.true(Object.values(info.targets)[0]!.obj_count >= r.result.get.count);
  // A built-in: started for the run, gone after.
  const b = await loader(['-bucket', 'etlb', '-pctput', '0', '-duration', '1s', '-etl', 'upper'], etlNode.url);
  t.is(b.code, 0, b.stderr);
  t.is(b.result.config.etl, 'aisloader-upper');
  t.true(b.result.get.count > 0 && b.result.get.errors === 0);
  t.is(b.result.get.bytes, b.result.get.count * 65536);
  const left = JSON.parse((await json('GET', '/v1/etl')).body.toString()) as { id: string }[];
  t.deepEqual(left.map((e) => e.id), ['md5-of-mine']);
  // -etlspec: the spec's ETL for the run.
  const specFile = `${etlNode.root}/spec.json`;
  fs.writeFileSync(specFile, JSON.stringify({ name: 'spec-echo', communication: 'hpush://', runtime: { command: [process.execPath, example, 'echo'] }, argument: 'fqn' }));
  const s = await loader(['-bucket', 'etlb', '-pctput', '0', '-duration', '1s', '-etlspec', specFile], etlNode.url);
  t.is(s.code, 0, s.stderr);
  t.true(s.result.get.count > 0 && s.result.get.errors === 0);
  t.is(s.result.get.bytes, s.result.get.count * 65536);
  t.is((await json('GET', '/v1/etl/spec-echo')).status, 404);
  for (const bad of [['-etl', 'no-such-etl'], ['-etl', 'md5', '-s3'], ['-etl', 'md5', '-etlspec', specFile], ['-etl', 'md5', '-readlen', '1KiB']]) {
    const p = spawn(process.execPath, [AISLOADER, '-endpoint', etlNode.url, '-bucket', 'etlb', '-pctput', '0', '-duration', '1s', ...bad], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    t.not(await new Promise<number | null>((resolve) => p.on('close', resolve)), 0, bad.join(' '));
    t.regex(err, /-etl|ETL/, bad.join(' '));
  }
});
