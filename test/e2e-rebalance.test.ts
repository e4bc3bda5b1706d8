// End to end, rebalance and resilver on a real cluster (one proxy, three targets, each its own aisnode
// process on loopback). A fourth target joins while a reader keeps GETting every object: every read
// is correct throughout, and afterwards every object sits on its HRW owner and mountpath, exactly once,
// with its metadata (ETag incl. multipart, content type, user metadata) unchanged. Two targets joining
// at once (the second while the first rebalance runs), a target killed with -9 and restarted, and
// mountpaths attached and detached on a running target: the same checks each time.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import {
  S3Client,
  PutObjectCommand,
  HeadObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import {
  startClusterWithObjects,
  objectsOnDisk,
  misplacedObjects,
  hrwPlacement,
  hrwMountpath,
  hrwWinner,
  targetIdOf,
  logNodesOnFailure,
  waitRebalanced,
  FAST_KEEPALIVE,
  type Cluster,
} from './helpers/cluster';
import { request, mapLimit, random, sleep, sha256, md5, walkFiles, objPath, ROOT } from './helpers/node';
import { objectUname } from '../src/cluster/hrw';
import type { ClusterRebStatus } from '../src/api/rebalance';
import { encodeLom, type Lom } from '../src/fs/lom';
import { hashInit, hashUpdate, hashDigest } from '../src/native';
import { pack } from 'msgpackr';

const B = 'reb-bucket';
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
let c: Cluster;
let s3: S3Client;
/** key -> sha256 of its content. */
const sums = new Map<string, string>();
const MPU_KEY = 'big/multipart.bin';
const META_KEY = 'meta/with-user-metadata.txt';

function ais(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AIS, ...args], { env: { ...process.env, AIS_ENDPOINT: c.primary.url } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function put(key: string, body: Buffer, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body, ...extra }));
  sums.set(key, sha256(body));
}

test.before(async () => {
  const items: [string, Buffer][] = [];
  for (let i = 0; i < 300; i++) {
    const size = i % 50 === 0 ? (1 << 20) + 12345 : 1 + ((i * 7919) % 40_000);
    items.push([`obj-${String(i).padStart(4, '0')}${i % 9 === 0 ? '/deep/x' : ''}`, random(size)]);
  }
  items.push(['huge/four-mib-plus.bin', random(4 * (1 << 20) + 777)]);
  ({ cluster: c, s3 } = await startClusterWithObjects({ targets: 3, name: 'reb', config: FAST_KEEPALIVE }, B, items));
  for (const [k, b] of items) sums.set(k, sha256(b));
  await put(META_KEY, Buffer.from('hello, rebalance\n'), { ContentType: 'text/x-reb', Metadata: { color: 'blue', 'the-answer': '42' } });
  // A multipart object: its ETag "<md5 of md5s>-2" must survive every move.
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: MPU_KEY }));
  const p1 = random(5 << 20);
  const p2 = random(1 << 20);
  const e1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: MPU_KEY, UploadId: up.UploadId, PartNumber: 1, Body: p1 }));
  const e2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: MPU_KEY, UploadId: up.UploadId, PartNumber: 2, Body: p2 }));
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: B, Key: MPU_KEY, UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }),
  );
  sums.set(MPU_KEY, sha256(Buffer.concat([p1, p2])));
});

test.afterEach.always((t) => logNodesOnFailure(t, c, 4000));

test.after.always(async () => {
  await c?.stop();
});

const rebalanced = (timeoutMs = 60_000): Promise<ClusterRebStatus> => waitRebalanced(c, timeoutMs);

/** Every object exactly once in the cluster, on its HRW owner target and mountpath (under the current Smap). */
async function assertPlacement(t: import('ava').ExecutionContext, keys: Iterable<string> = sums.keys()): Promise<void> {
  const misplaced = await misplacedObjects(c, B, keys);
  for (const m of misplaced.slice(0, 5)) t.log(m);
  t.is(misplaced.length, 0, 'objects not exactly once on their HRW owner and mountpath');
}

/** GETs every object through the proxy and compares its bytes; returns the keys that failed. */
/** Keys a test is deleting: a read racing its DELETE may see either answer. */
const deleting = new Set<string>();

async function readAll(keys: Iterable<string> = sums.keys()): Promise<string[]> {
  const bad: string[] = [];
  await mapLimit([...keys], 8, async (key) => {
    if (deleting.has(key)) return;
    const r = await request(c.primary.url, { method: 'GET', path: objPath(B, key), timeoutMs: 30_000 }).catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }));
    if (deleting.has(key)) return;
    if (r.status !== 200 || sha256(r.body) !== sums.get(key)) bad.push(`${key}: ${r.status} ${r.status === 200 ? 'wrong bytes' : r.body.toString().slice(0, 200)}`);
  });
  return bad;
}

/** Reads every object in a loop until stopped; counts reads and collects failures. */
function reader(t: import('ava').ExecutionContext): { stop: () => Promise<{ reads: number; bad: string[] }> } {
  let stopped = false;
  t.teardown(() => {
    stopped = true; // a failed test must not leave the loop running
  });
  let reads = 0;
  const bad: string[] = [];
  const loop = (async () => {
    while (!stopped) {
      const failed = await readAll();
      reads += sums.size;
      bad.push(...failed);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { reads, bad };
    },
  };
}

test.serial('a 4th target joins while every object is read: all reads correct, then every object on its HRW owner once, metadata intact', async (t) => {
  const before = await s3.send(new HeadObjectCommand({ Bucket: B, Key: MPU_KEY }));
  t.regex(before.ETag ?? '', /-2"$/);
  await assertPlacement(t);
  const rd = reader(t);
  await sleep(300);
  await c.addTarget();
  const st = await rebalanced();
  // One more full pass after the end: nothing is left behind.
  await sleep(200);
  const { reads, bad } = await rd.stop();
  t.log(`rebalance g${st.rmd.id}: ${reads} reads during and after; failures: ${bad.length}`);
  t.deepEqual(bad.slice(0, 10), []);
  t.true(reads >= sums.size);
  await assertPlacement(t);
  const sent = Object.values(st.targets).reduce((n, x) => n + (x.rebalance?.movedObjs ?? 0), 0);
  const recv = Object.values(st.targets).reduce((n, x) => n + (x.rebalance?.recvObjs ?? 0), 0);
  const newcomer = st.targets[targetIdOf(await c.smap(), c.targets[3]!)!]!;
  t.log(`moved ${sent} objects; the new target received ${newcomer.rebalance?.recvObjs}`);
  t.true(sent > 0 && recv === sent, `sent ${sent}, received ${recv}`);
  t.true((newcomer.rebalance?.recvObjs ?? 0) > 0);
  const after = await s3.send(new HeadObjectCommand({ Bucket: B, Key: MPU_KEY }));
  t.is(after.ETag, before.ETag);
  const meta = await s3.send(new HeadObjectCommand({ Bucket: B, Key: META_KEY }));
  t.is(meta.ContentType, 'text/x-reb');
  t.deepEqual(meta.Metadata, { color: 'blue', 'the-answer': '42' });
  // The CLI shows the same: a table per target, the finished rebalance and non-zero counts.
  const out = await ais('show', 'rebalance');
  t.is(out.code, 0, out.stderr);
  t.regex(out.stdout, /TARGET\s+REB ID\s+STATE\s+SCANNED\s+SENT OBJS/);
  t.regex(out.stdout, new RegExp(`Rebalance g${st.rmd.id}: finished`));
  t.is(out.stdout.split('\n').filter((l) => l.startsWith('t[') && l.includes(`g${st.rmd.id}`) && l.includes('finished')).length, 4);
  const json = JSON.parse((await ais('show', 'rebalance', '--json')).stdout) as ClusterRebStatus;
  t.is(json.rmd.id, st.rmd.id);
});

test.serial('two more targets join at once (the second during the first one\'s rebalance): objects end on their owners under the newest Smap', async (t) => {
  const rmdBefore = (await rebalanced()).rmd.id;
  const rd = reader(t);
  await Promise.all([c.addTarget(), c.addTarget()]);
  // Deleted while objects move: not brought back by a target that still held a copy.
  const doomed = [...sums.keys()].filter((k) => k.startsWith('obj-01')).slice(0, 12);
  await mapLimit(doomed, 4, async (k) => {
    deleting.add(k);
    const r = await request(c.primary.url, { method: 'DELETE', path: objPath(B, k) });
    if (r.status !== 204) throw new Error(`DELETE ${k}: ${r.status}`);
    sums.delete(k);
  });
  await c.settle(6);
  const st = await rebalanced();
  const { bad, reads } = await rd.stop();
  t.log(`rebalance ids g${rmdBefore} -> g${st.rmd.id}; ${reads} reads, ${bad.length} failures`);
  t.deepEqual(bad.slice(0, 10), []);
  t.true(st.rmd.id >= rmdBefore + 2, 'one rebalance per join');
  const aborted = c.targets.filter((n) => /rebalance g\d+: aborted by g\d+/.test(n.log())).length;
  t.log(`targets that aborted a running rebalance for the newer one: ${aborted}`);
  await assertPlacement(t);
  t.deepEqual(await readAll(), []);
  for (const k of doomed) t.is((await request(c.primary.url, { method: 'GET', path: objPath(B, k) })).status, 404, `${k} stays deleted`);
  const left = c.targets.flatMap((n) => doomed.filter((k) => objectsOnDisk(n, B).has(k)));
  t.deepEqual(left, [], 'no copy of a deleted object on any target');
});

test.serial('the intra-cluster receive route refuses bad input and stores nothing: no secret, bad framing, checksum mismatch', async (t) => {
  const secret = fs.readFileSync(path.join(c.primary.dirs.confdir, '.ais.secret'), 'utf8').trim();
  const node = c.targets[0]!;
  const smap = await c.smap();
  const cands: [string, bigint][] = Object.values(smap.tmap).map((x) => [x.daemon_id, BigInt(x.id_digest)]);
  const owned = (k: string): boolean => hrwWinner(cands, objectUname('ais', B, k)) === targetIdOf(smap, node);
  let key = '';
  for (let i = 0; !key; i++) if (owned(`intra/forged-${i}`)) key = `intra/forged-${i}`;
  let foreign = '';
  for (let i = 0; !foreign; i++) if (!owned(`intra/other-${i}`)) foreign = `intra/other-${i}`;
  const data = random(3000);
  const frame = (lom: Lom, body: Buffer, name = key): Buffer => {
    const head = pack({ bucket: B, name, lom: encodeLom(lom) });
    const len = Buffer.alloc(4);
    len.writeUInt32BE(head.length);
    return Buffer.concat([len, head, body]);
  };
  const send = (body: Buffer, withSecret = true) =>
    request(node.url, { method: 'PUT', path: '/v1/intra/reb', headers: { 'content-length': body.length, ...(withSecret ? { 'ais-intra': secret } : {}) }, body });
  const st = hashInit('xxhash');
  hashUpdate('xxhash', st, data);
  const good: Lom = { size: data.length, cksumType: 'xxhash', cksumValue: hashDigest('xxhash', st), mtime: Date.now(), md5: md5(data) };
  t.is((await send(frame(good, data), false)).status, 403);
  t.is((await send(Buffer.from([0, 0]))).status, 400);
  // An object this target does not own under its Smap is refused (the sender keeps it).
  t.is((await send(frame(good, data, foreign))).status, 409);
  const forged = await send(frame({ ...good, cksumValue: '0123456789abcdef' }, data));
  t.is(forged.status, 400, forged.body.toString());
  t.regex(forged.body.toString(), /BadDigest/);
  const short = await send(frame({ ...good, size: data.length + 10 }, data));
  t.is(short.status, 400, short.body.toString());
  t.false(objectsOnDisk(node, B).has(key), 'nothing published');
  const work = node.dirs.mountpaths.flatMap((mp) => walkFiles(path.join(mp, '@ais', B, '%wk')));
  t.deepEqual(work, [], 'no work file left behind');
  // The same object with its true checksum is stored with its metadata as sent.
  const ok = await send(frame(good, data));
  t.is(ok.status, 200, ok.body.toString());
  t.true(objectsOnDisk(node, B).has(key));
  const h = await request(node.url, { method: 'HEAD', path: `/v1/objects/${B}/${key}`, headers: { 'ais-fwd': secret } });
  t.is(h.status, 200);
  t.is(h.headers['etag'], `"${md5(data)}"`);
  t.is(h.headers['ais-checksum-value'], good.cksumValue);
  t.false(objectsOnDisk(node, B).has(foreign));
  await request(node.url, { method: 'DELETE', path: `/v1/objects/${B}/${key}`, headers: { 'ais-fwd': secret } });
});

test.serial('ais start rebalance: objects moved by hand to the wrong target go back to their owners, bytes intact; refused while rebalance is disabled', async (t) => {
  const smap = await c.smap();
  const moved = [...sums.keys()].filter((k) => k.startsWith('obj-') && !deleting.has(k)).slice(0, 6);
  for (const key of moved) {
    const from = hrwPlacement(smap, c.targets, B, key);
    const other = c.targets.find((n) => n !== from.owner)!;
    const dst = path.join(other.dirs.mountpaths[0]!, '@ais', B, '%ob', ...key.split('/'));
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.renameSync(from.file, dst); // same file system: the metadata (xattr) moves with it
  }
  t.is((await misplacedObjects(c, B, moved)).length, moved.length, 'the objects are misplaced');
  const r = await ais('start', 'rebalance', '--wait');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Started rebalance g\d+/);
  t.regex(r.stdout, /Rebalance g\d+ finished/);
  const st = await rebalanced();
  t.deepEqual(st.rmd.done.sort(), Object.keys(st.targets).sort());
  await assertPlacement(t);
  t.deepEqual(await readAll(moved), []);
  const raw = await request(c.primary.url, { method: 'PUT', path: '/v1/cluster', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'rebalance' }) });
  t.is(raw.status, 200);
  t.regex(raw.body.toString(), /^g\d+$/);
  await rebalanced();
  await assertPlacement(t);
  const setReb = (on: boolean) => request(c.primary.url, { method: 'PUT', path: `/v1/cluster/set-config?rebalance.enabled=${on}` });
  t.is((await setReb(false)).status, 200);
  try {
    const off = await ais('start', 'rebalance');
    t.is(off.code, 1);
    t.regex(off.stderr, /rebalance is disabled/);
  } finally {
    t.is((await setReb(true)).status, 200);
  }
});

test.serial('kill -9 a target: its objects are unavailable (no replicas) until it returns; back, it gets its objects again', async (t) => {
  const smap = await c.smap();
  const victim = c.targets[1]!;
  const vid = targetIdOf(smap, victim)!;
  const held = [...objectsOnDisk(victim, B).keys()];
  t.true(held.length > 0);
  await victim.kill('SIGKILL');
  await c.settle(5);
  await rebalanced();
  // What AIStore does without mirroring or EC: the objects on the dead target cannot be read.
  const r = await request(c.primary.url, { method: 'GET', path: objPath(B, held[0]!) });
  t.is(r.status, 404);
  // Written while it is away: these land on the 5 targets left, and move to it when it is back if HRW says so.
  const fresh: string[] = [];
  for (let i = 0; i < 40; i++) {
    const k = `while-away/${i}`;
    await put(k, random(1000 + i));
    fresh.push(k);
  }
  const others = sums.size - held.length;
  t.deepEqual(await readAll([...sums.keys()].filter((k) => !held.includes(k))), [], `${others} objects on the live targets`);
  await victim.restart();
  await c.settle(6);
  t.is(targetIdOf(await c.smap(), victim), vid);
  await rebalanced();
  await assertPlacement(t);
  t.deepEqual(await readAll(), []);
  const back = [...objectsOnDisk(victim, B).keys()].filter((k) => fresh.includes(k));
  t.log(`${held.length} objects unavailable while it was down; ${back.length} of the ${fresh.length} written meanwhile moved to it`);
  t.true(back.length > 0);
});

test.serial('mountpath attach and detach: objects resilver to their HRW mountpath, readable throughout, bytes verified', async (t) => {
  const node = c.targets[0]!;
  const id = targetIdOf(await c.smap(), node)!;
  const extra = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-e2e-reb-mp3-'));
  t.teardown(() => fs.rmSync(extra, { recursive: true, force: true }));
  const mine = [...objectsOnDisk(node, B).keys()];
  const rd = reader(t);
  const att = await ais('storage', 'mountpath', 'attach', `${id}=${extra}`);
  t.is(att.code, 0, att.stderr);
  t.regex(att.stdout, /now has mountpath/);
  const resilvered = async (): Promise<void> => {
    for (let i = 0; i < 600; i++) {
      const s = JSON.parse((await request(node.url, { method: 'GET', path: '/v1/daemon?what=rebalance' })).body.toString()) as { resilver: { state: string } };
      if (s.resilver.state === 'finished') return;
      await sleep(100);
    }
    throw new Error('resilver did not finish');
  };
  await resilvered();
  const all = [...node.dirs.mountpaths, extra];
  const onNew = objectsOnDisk(node, B, [extra]);
  t.true(onNew.size > 0, 'some objects moved to the new mountpath');
  let wrong = 0;
  const disk = objectsOnDisk(node, B, all);
  for (const key of mine) {
    const mp = hrwMountpath(all, objectUname('ais', B, key));
    const files = disk.get(key) ?? [];
    if (files.length !== 1 || !files[0]!.startsWith(mp + path.sep)) wrong++;
  }
  t.is(wrong, 0, 'each object once, on its HRW mountpath among the three');
  const list = await ais('storage', 'mountpath', 'show', id);
  t.regex(list.stdout, new RegExp(`${extra.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+attached`));
  // Detach one of the original mountpaths: everything on it moves off, nothing is lost.
  const gone = node.dirs.mountpaths[0]!;
  const det = await request(c.primary.url, {
    method: 'DELETE',
    path: '/v1/reverse/daemon/mountpaths',
    headers: { 'ais-node-id': id, 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON.stringify({ action: 'detach-mp', value: gone })) },
    body: Buffer.from(JSON.stringify({ action: 'detach-mp', value: gone })),
  });
  t.is(det.status, 200, det.body.toString());
  await resilvered();
  const { reads, bad } = await rd.stop();
  t.log(`${onNew.size} objects moved to the new mountpath; ${reads} reads during attach+detach, ${bad.length} failures`);
  t.deepEqual(bad.slice(0, 10), []);
  t.is(objectsOnDisk(node, B, [gone]).size, 0, 'nothing left on the detached mountpath');
  const mps = JSON.parse((await request(node.url, { method: 'GET', path: '/v1/daemon?what=mountpaths' })).body.toString()) as { available: string[] };
  t.deepEqual(mps.available.sort(), [node.dirs.mountpaths[1]!, extra].sort());
  t.deepEqual(await readAll(), []);
  // Bad input changes nothing.
  const again = await ais('storage', 'mountpath', 'detach', `${id}=/no/such/dir`);
  t.is(again.code, 1);
  t.regex(again.stderr, /does not exist/);
  const twice = await ais('storage', 'mountpath', 'attach', `${id}=${extra}`);
  t.is(twice.code, 1);
  t.regex(twice.stderr, /already attached/);
  // A restart keeps the change (the command line still names the detached mountpath).
  await node.restart();
  await c.settle(6);
  const kept = JSON.parse((await request(node.url, { method: 'GET', path: '/v1/daemon?what=mountpaths' })).body.toString()) as { available: string[] };
  t.deepEqual(kept.available.sort(), [node.dirs.mountpaths[1]!, extra].sort());
  await rebalanced();
  t.deepEqual(await readAll(), []);
});
