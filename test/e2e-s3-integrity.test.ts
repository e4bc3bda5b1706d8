// End to end, real aisnode processes: hostile object names never escape the mountpath, name conflicts,
// corrupted data and metadata on disk are never served as good, a node killed in the middle of a PUT
// comes back with the old object intact, truncated bodies store nothing, and a 1 GiB object streams
// through PUT and GET without the node buffering it.
import test, { type ExecutionContext } from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, xmlAll, objPath, sha256, md5, random, walkFiles, procMem, sleep, type AisNode } from './helpers/node';
import { getStreamed, flipByte, objectFile, leaveAfterFirstBytes } from './helpers/disk';
import { getxattr, fsetxattr } from '../src/native';
import { decodeLom, LOM_XATTR } from '../src/fs/lom';

const MiB = 1 << 20;
let node: AisNode; // two mountpaths: names, corruption, truncated bodies
let s3: S3Client;
// One mountpath: where an object and a "folder" of the same name meet on disk for certain. (With several
// mountpaths, HRW may put "a" and "a/b" on different ones, and then both can be stored.)
let one: AisNode;

test.before(async () => {
  [node, one] = await Promise.all([startNode({ name: 'integrity' }), startNode({ name: 'integrity-1mp', mountpaths: 1 })]);
  s3 = s3Client(node.url);
  for (const b of ['conflict', 'collide']) t1(await request(one.url, { method: 'PUT', path: `/s3/${b}` }));
  for (const b of ['encpath', 'nul', 'keylen', 'longseg', 'conflict', 'corrupt', 'corrupt2', 'corrupt3', 'largeget', 'trunc', 'trunc2', 'digest', 'digest2']) await s3.send(new CreateBucketCommand({ Bucket: b }));
});

test.after.always(async () => {
  s3?.destroy();
  await Promise.all([node?.stop(), one?.stop()]);
});

function t1(r: { status: number; body: Buffer }): void {
  if (r.status !== 200) throw new Error(`${r.status} ${r.body.toString()}`);
}

function bucketDirs(n: AisNode, bucket: string): string[] {
  return n.dirs.mountpaths.map((mp) => path.join(mp, '@ais', bucket));
}

/** Files in the %wk folders of a bucket on every mountpath. */
function workFiles(n: AisNode, bucket: string): string[] {
  return bucketDirs(n, bucket).flatMap((d) => walkFiles(path.join(d, '%wk')));
}

/** Files in every %wk folder of the node (all buckets, all mountpaths). */
function allWorkFiles(n: AisNode): string[] {
  return n.dirs.mountpaths.flatMap((mp) => {
    const root = path.join(mp, '@ais');
    return fs.existsSync(root) ? fs.readdirSync(root).flatMap((b) => walkFiles(path.join(root, b, '%wk'))) : [];
  });
}

/** Waits (bounded) until the bucket has no work files; returns what is left. */
async function settleWorkFiles(n: AisNode, bucket: string): Promise<string[]> {
  for (let i = 0; i < 100 && workFiles(n, bucket).length > 0; i++) await sleep(50);
  return workFiles(n, bucket);
}


async function listAll(bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(out.Contents ?? []).map((c) => c.Key!));
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Whole listing through raw XML with encoding-type=url, keys decoded. */
async function listAllUrl(n: AisNode, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token = '';
  for (;;) {
    const r = await request(n.url, { method: 'GET', path: `/s3/${bucket}?list-type=2&encoding-type=url${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}` });
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.body.toString()}`);
    keys.push(...xmlAll(r.body, 'Key').map((k) => decodeURIComponent(k)));
    token = xmlAll(r.body, 'NextContinuationToken')[0] ?? '';
    if (!token) return keys;
  }
}

// ---------------------------------------------------------------------------------------------------
// Hostile names

const ESCAPE_MARK = `tais-escape-${randomBytes(4).toString('hex')}`;
const HOSTILE = [
  '../x',
  'a/../../etc/passwd',
  '..',
  '.',
  '...',
  '../..',
  'a/..',
  'a/.',
  './.',
  `../../../../../../../../../../tmp/${ESCAPE_MARK}`,
  `../../../../${ESCAPE_MARK}`,
  '/lead',
  '//double-lead',
  '/../lead-dotdot',
  'trail/',
  'x//y',
  'dir/./f',
  '%2F',
  'a%2Fb',
  '%2E%2E',
  '%2E',
  '%',
  '%%',
  '%25',
  '%ob',
  '%wk',
  '%ln',
  '@ais',
  '%ob/x',
  '%wk/x',
  '%ln/x',
  'y/%ln',
  '@ais/names/%ob/z',
  '.trash',
  'back\\slash\\..\\x',
  'line\nbreak',
  'tab\there',
  'ctl\u0001\u001f',
  'rtl\u202eevil',
  '\uFEFFbom',
];

/** Splits keys into groups in which no key is a "folder" of another ("a" and "a/b" cannot coexist here). */
function conflictFreeGroups(keys: readonly string[]): string[][] {
  const isFolderOf = (a: string, b: string): boolean => {
    const sa = a.split('/');
    const sb = b.split('/');
    return sa.length < sb.length && sa.every((seg, i) => seg === sb[i]);
  };
  const groups: string[][] = [];
  for (const k of keys) {
    const g = groups.find((grp) => grp.every((o) => !isFolderOf(o, k) && !isFolderOf(k, o)));
    if (g) g.push(k);
    else groups.push([k]);
  }
  return groups;
}

test('hostile names: each round-trips (or gets a clear 4xx) and nothing lands outside <mp>/@ais/<bucket>/', async (t) => {
  const groups = conflictFreeGroups(HOSTILE);
  const bodies = new Map<string, { bucket: string; data: Buffer }>();
  const refused: string[] = [];
  for (const [i, group] of groups.entries()) {
    const b = `names-${i}`;
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    for (const key of group) {
      const data = random(100 + bodies.size);
      // Raw HTTP with the path as a client would send it ('.' and '..' segments verbatim).
      const put = await request(node.url, { method: 'PUT', path: objPath(b, key), body: data });
      if (put.status !== 200) {
        t.true(put.status >= 400 && put.status < 500, `${JSON.stringify(key)}: PUT ${put.status} (a refusal must be a 4xx)`);
        t.not(xmlCode(put.body), '', `${JSON.stringify(key)}: a refusal carries an S3 error code`);
        refused.push(`${JSON.stringify(key)} -> ${put.status} ${xmlCode(put.body)}`);
        continue;
      }
      t.is(put.headers.etag, `"${md5(data)}"`, JSON.stringify(key));
      bodies.set(key, { bucket: b, data });
    }
  }
  if (refused.length) t.log(`refused: ${refused.join('; ')}`);
  t.deepEqual(refused, [], 'S3 accepts every one of these names');

  for (const [key, { bucket, data }] of bodies) {
    const get = await request(node.url, { method: 'GET', path: objPath(bucket, key) });
    t.is(get.status, 200, `GET ${JSON.stringify(key)}`);
    t.is(sha256(get.body), sha256(data), `content of ${JSON.stringify(key)}`);
    // The SDK encodes the key its own way: the same object.
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    t.is(sha256(Buffer.from(await out.Body!.transformToByteArray())), sha256(data), `SDK GET ${JSON.stringify(key)}`);
  }
  // '..' written as %2E%2E in the path is the same key.
  const dotdot = bodies.get('../x')!;
  const enc = await request(node.url, { method: 'GET', path: `/s3/${dotdot.bucket}/%2E%2E/x` });
  t.is(enc.status, 200);
  t.is(sha256(enc.body), sha256(dotdot.data));

  // Listed with encoding-type=url (control characters cannot travel in XML 1.0 otherwise).
  for (const [i, group] of groups.entries()) {
    const listed = await listAllUrl(node, `names-${i}`);
    const want = group.filter((k) => bodies.has(k));
    t.deepEqual([...listed].sort(), [...want].sort(), 'every name listed exactly once, as given');
  }

  // On disk: every file of the node is inside <mp>/@ais/<bucket>/{%ob,%ln,%wk,%mp}, those of these buckets in
  // %ob or %ln; nothing anywhere else in the node's dirs or above them.
  for (const mp of node.dirs.mountpaths) {
    for (const f of walkFiles(mp)) {
      const rel = path.relative(path.join(mp, '@ais'), fs.realpathSync(f));
      t.false(rel.startsWith('..') || path.isAbsolute(rel), `${f} escapes ${mp}/@ais`);
      t.regex(rel, /^[^/]+\/(%ob|%ln|%wk|%mp)\//, f); // %mp: uploads of the tests running beside this one
      if (rel.startsWith('names-')) t.regex(rel, /^names-\d+\/(%ob|%ln)\//, f);
    }
  }
  const outside = walkFiles(node.dirs.root).filter((f) => !node.dirs.mountpaths.some((mp) => f.startsWith(mp + '/')) && !f.startsWith(node.dirs.confdir + '/'));
  t.deepEqual(outside, [], 'nothing written beside the mountpaths');
  t.false(fs.existsSync(path.join(os.tmpdir(), ESCAPE_MARK)));
  t.false(fs.existsSync(path.join('/', ESCAPE_MARK)));

  // DELETE each: 204, gone, and the buckets are empty again.
  for (const [key, { bucket }] of bodies) {
    const del = await request(node.url, { method: 'DELETE', path: objPath(bucket, key) });
    t.is(del.status, 204, `DELETE ${JSON.stringify(key)}`);
    t.is((await request(node.url, { method: 'HEAD', path: objPath(bucket, key) })).status, 404, `HEAD after DELETE ${JSON.stringify(key)}`);
  }
  for (const i of groups.keys()) t.deepEqual(await listAllUrl(node, `names-${i}`), []);
});

test('names that collide only on disk ("../.." then "../../x") are refused with 409, never mixed up', async (t) => {
  // "../.." is a file where "../../x" needs a folder: the layout's one limitation, answered clearly.
  const b = 'collide';
  const first = random(10);
  t.is((await request(one.url, { method: 'PUT', path: objPath(b, '../..'), body: first })).status, 200);
  const r = await request(one.url, { method: 'PUT', path: objPath(b, '../../x'), body: 'x' });
  t.is(r.status, 409);
  t.is(xmlCode(r.body), 'XTaisObjectNameConflict');
  t.is(sha256((await request(one.url, { method: 'GET', path: objPath(b, '../..') })).body), sha256(first));
  t.is((await request(one.url, { method: 'GET', path: objPath(b, '../../x') })).status, 404);
  t.is((await request(one.url, { method: 'GET', path: objPath(b, '..') })).status, 404);
  t.deepEqual(await listAllUrl(one, b), ['../..']);
  const mp = one.dirs.mountpaths[0]!;
  t.deepEqual(walkFiles(path.join(mp, '@ais', b)).map((f) => path.relative(mp, f)), ['@ais/collide/%ob/%2E%2E/%2E%2E']);
});

test('percent-encoded slashes and dots in the path are part of the key, and stay inside the bucket', async (t) => {
  const b = 'encpath';
  const cases: [string, string][] = [
    ['p%2Fq', 'p/q'],
    ['%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', '../../etc/passwd'],
    ['%2E%2E/%2E%2E/%2E%2E/enc-escape', '../../../enc-escape'],
    ['%2Fabs%2Fpath', '/abs/path'],
    ['%252F', '%2F'],
  ];
  for (const [raw, key] of cases) {
    const data = random(64);
    const put = await request(node.url, { method: 'PUT', path: `/s3/${b}/${raw}`, body: data });
    t.is(put.status, 200, raw);
    // The same object under its plainly encoded name.
    const get = await request(node.url, { method: 'GET', path: objPath(b, key) });
    t.is(get.status, 200, `${raw} as ${JSON.stringify(key)}`);
    t.is(sha256(get.body), sha256(data));
  }
  t.deepEqual((await listAllUrl(node, b)).sort(), cases.map(([, k]) => k).sort());
  for (const mp of node.dirs.mountpaths) {
    for (const f of walkFiles(path.join(mp, '@ais', b))) t.regex(path.relative(path.join(mp, '@ais', b), f), /^%ob\//);
  }
  t.false(fs.existsSync(path.join(node.dirs.root, 'enc-escape')));
  t.false(fs.existsSync(path.join(node.dirs.mountpaths[0]!, 'enc-escape')));
  t.false(fs.existsSync(path.join(node.dirs.mountpaths[0]!, '@ais', 'enc-escape')));
});

test('NUL in a key: 400, nothing stored', async (t) => {
  for (const p of [`/s3/nul/nul%00byte`, `/s3/nul/%00`, `/s3/nul/dir/%00/x`]) {
    const r = await request(node.url, { method: 'PUT', path: p, body: 'x' });
    t.is(r.status, 400, p);
    t.is(xmlCode(r.body), 'InvalidArgument', p);
    const g = await request(node.url, { method: 'GET', path: p });
    t.is(g.status, 400, p);
  }
  t.deepEqual(await listAll('nul', 'nul'), []);
});

test('key length: 1024 bytes is fine (as folders and as one hashed segment), 1025 is KeyTooLongError', async (t) => {
  const b = 'keylen';
  const seg = 'k'.repeat(200);
  const folders = [seg, seg, seg, seg, seg].join('/') + '/' + 'e'.repeat(1024 - 5 * 201);
  const oneSeg = 'é'.repeat(512); // 1024 bytes of UTF-8 in 512 characters
  t.is(Buffer.byteLength(folders), 1024);
  t.is(Buffer.byteLength(oneSeg), 1024);
  for (const key of [folders, oneSeg]) {
    const data = random(333);
    const put = await request(node.url, { method: 'PUT', path: objPath(b, key), body: data });
    t.is(put.status, 200, `PUT ${key.length} chars`);
    const get = await request(node.url, { method: 'GET', path: objPath(b, key) });
    t.is(sha256(get.body), sha256(data));
    t.deepEqual(await listAll(b, key.slice(0, 10)), [key]);
    t.is((await request(node.url, { method: 'DELETE', path: objPath(b, key) })).status, 204);
  }
  for (const key of [folders + 'x', oneSeg + 'x', 'x'.repeat(1025), 'é'.repeat(513)]) {
    const r = await request(node.url, { method: 'PUT', path: objPath(b, key), body: 'x' });
    t.is(r.status, 400, `${Buffer.byteLength(key)} bytes`);
    t.is(xmlCode(r.body), 'KeyTooLongError');
  }
  t.deepEqual(await listAll(b, 'kkkk'), []);
});

test('a 300-byte path segment is stored under %ln, listed, served and deleted', async (t) => {
  const b = 'longseg';
  const key = `long/${'L'.repeat(300)}`;
  const data = random(5000);
  const put = await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: data }));
  t.is(put.ETag, `"${md5(data)}"`);
  const files = bucketDirs(node, b).flatMap((d) => walkFiles(path.join(d, '%ln')));
  t.is(files.length, 1, 'one file under %ln');
  const lom = decodeLom(getxattr(files[0]!, LOM_XATTR)!);
  t.is(lom.name, key, 'the real name is kept in the metadata');
  t.is(lom.size, data.length);
  t.is(path.basename(files[0]!), createHash('sha256').update(key).digest('hex'));
  t.deepEqual(await listAll(b, 'long/'), [key]);
  const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
  t.is(sha256(Buffer.from(await out.Body!.transformToByteArray())), sha256(data));
  t.is((await s3.send(new HeadObjectCommand({ Bucket: b, Key: key }))).ContentLength, data.length);
  // A different long name with the same first 255 bytes is a different object.
  const other = await request(node.url, { method: 'GET', path: objPath(b, key + 'x') });
  t.is(other.status, 404);
  t.is((await request(node.url, { method: 'DELETE', path: objPath(b, key) })).status, 204);
  t.deepEqual(bucketDirs(node, b).flatMap((d) => walkFiles(path.join(d, '%ln'))), []);
  t.deepEqual(await listAll(b, 'long/'), []);
});

// ---------------------------------------------------------------------------------------------------
// Name conflicts (an object and a "folder" of the same name)

test('object "a" then "a/b": 409 XTaisObjectNameConflict, "a" intact; and the other way round (one mountpath)', async (t) => {
  const b = 'conflict';
  const a = random(2000);
  t.is((await request(one.url, { method: 'PUT', path: objPath(b, 'a'), body: a })).status, 200);
  const r = await request(one.url, { method: 'PUT', path: objPath(b, 'a/b'), body: 'child' });
  t.is(r.status, 409);
  t.is(xmlCode(r.body), 'XTaisObjectNameConflict');
  t.regex(r.body.toString(), /<Key>a\/b<\/Key>/);
  const deep = await request(one.url, { method: 'PUT', path: objPath(b, 'a/b/c/d'), body: random(3 * MiB) });
  t.is(deep.status, 409, 'a large body and a deeper name: same answer');
  t.is(xmlCode(deep.body), 'XTaisObjectNameConflict');
  const get = await request(one.url, { method: 'GET', path: objPath(b, 'a') });
  t.is(get.status, 200);
  t.is(sha256(get.body), sha256(a));
  t.is(get.headers.etag, `"${md5(a)}"`);
  t.is((await request(one.url, { method: 'GET', path: objPath(b, 'a/b') })).status, 404);

  const cd = random(1000);
  t.is((await request(one.url, { method: 'PUT', path: objPath(b, 'c/d'), body: cd })).status, 200);
  const parent = await request(one.url, { method: 'PUT', path: objPath(b, 'c'), body: random(2 * MiB + 1) });
  t.is(parent.status, 409);
  t.is(xmlCode(parent.body), 'XTaisObjectNameConflict');
  // "c/" is a folder marker: a different key, it coexists with "c/d".
  t.is((await request(one.url, { method: 'PUT', path: objPath(b, 'c/'), body: 'marker' })).status, 200);
  t.is(sha256((await request(one.url, { method: 'GET', path: objPath(b, 'c/d') })).body), sha256(cd));
  t.is((await request(one.url, { method: 'GET', path: objPath(b, 'c/') })).body.toString(), 'marker');
  t.is((await request(one.url, { method: 'GET', path: objPath(b, 'c') })).status, 404);
  t.deepEqual(await listAllUrl(one, b), ['a', 'c/', 'c/d']);
  t.deepEqual(await settleWorkFiles(one, b), [], 'refused PUTs leave no work files');
});

test('two mountpaths: "p" and "p/child" either both stored and served, or the second refused with 409', async (t) => {
  const b = 'conflict';
  const outcomes: Record<number, number> = {};
  for (let i = 0; i < 12; i++) {
    const parent = random(500 + i);
    const child = random(700 + i);
    t.is((await request(node.url, { method: 'PUT', path: objPath(b, `p${i}`), body: parent })).status, 200);
    const r = await request(node.url, { method: 'PUT', path: objPath(b, `p${i}/child`), body: child });
    outcomes[r.status] = (outcomes[r.status] ?? 0) + 1;
    t.true(r.status === 200 || r.status === 409, `p${i}/child: ${r.status}`);
    if (r.status === 409) t.is(xmlCode(r.body), 'XTaisObjectNameConflict');
    t.is(sha256((await request(node.url, { method: 'GET', path: objPath(b, `p${i}`) })).body), sha256(parent), `p${i} intact`);
    const g = await request(node.url, { method: 'GET', path: objPath(b, `p${i}/child`) });
    if (r.status === 200) {
      t.is(g.status, 200);
      t.is(sha256(g.body), sha256(child), `p${i}/child served`);
    } else {
      t.is(g.status, 404);
    }
    const listed = await listAll(b, `p${i}`);
    t.deepEqual(listed.filter((k) => k === `p${i}` || k.startsWith(`p${i}/`)), r.status === 200 ? [`p${i}`, `p${i}/child`] : [`p${i}`]);
  }
  t.log(`outcomes by status: ${JSON.stringify(outcomes)}`);
  t.deepEqual(await settleWorkFiles(node, b), []);
});

// ---------------------------------------------------------------------------------------------------
// Corrupted data and metadata on disk



test('a flipped byte in an object file: small GET is 500, large GET never completes as good, ranges still served', async (t) => {
  const b = 'corrupt';
  const small = random(1000);
  const big = random(5 * MiB);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'small', Body: small }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: big }));
  const smallFile = objectFile(node, b, 'small');
  const bigFile = objectFile(node, b, 'big');
  t.is(fs.statSync(bigFile).size, big.length);
  flipByte(smallFile, 500);
  flipByte(bigFile, 2 * MiB + 3);

  const rs = await request(node.url, { method: 'GET', path: objPath(b, 'small') });
  t.is(rs.status, 500);
  t.is(xmlCode(rs.body), 'InternalError');
  t.not(sha256(rs.body), sha256(small));
  const sdkSmall = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'small' })).then(
    () => 'served',
    (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
  );
  t.is(sdkSmall, 500);

  const rb = await getStreamed(node.url, objPath(b, 'big'));
  t.log(`corrupted 5 MiB GET: status ${rb.status}, ${rb.length} bytes, ${rb.error ?? 'completed'}`);
  t.false(rb.status === 200 && rb.error === undefined && rb.length === big.length, 'a corrupted object must not complete as a 200');
  t.not(rb.sha256, sha256(big));
  const sdkBig = await s3
    .send(new GetObjectCommand({ Bucket: b, Key: 'big' }))
    .then(async (out) => sha256(Buffer.from(await out.Body!.transformToByteArray())))
    .then(
      (h) => `completed (${h === sha256(big) ? 'good' : 'bad'} bytes)`,
      () => 'failed',
    );
  t.is(sdkBig, 'failed');

  // Ranges are not verified against the whole-object checksum: the intact parts are still served.
  const r1 = await request(node.url, { method: 'GET', path: objPath(b, 'small'), headers: { Range: 'bytes=0-99' } });
  t.is(r1.status, 206);
  t.deepEqual(r1.body, small.subarray(0, 100));
  const r2 = await request(node.url, { method: 'GET', path: objPath(b, 'big'), headers: { Range: `bytes=0-${MiB - 1}` } });
  t.is(r2.status, 206);
  t.is(sha256(r2.body), sha256(big.subarray(0, MiB)));
  const r3 = await getStreamed(node.url, objPath(b, 'big'), { Range: `bytes=${3 * MiB}-` });
  t.is(r3.status, 206);
  t.is(r3.sha256, sha256(big.subarray(3 * MiB)));

  // The node still serves other requests, and the repaired objects again.
  flipByte(smallFile, 500);
  flipByte(bigFile, 2 * MiB + 3);
  const ok = await request(node.url, { method: 'GET', path: objPath(b, 'small') });
  t.is(ok.status, 200);
  t.is(sha256(ok.body), sha256(small));
  const okBig = await getStreamed(node.url, objPath(b, 'big'));
  t.is(okBig.status, 200);
  t.is(okBig.error, undefined);
  t.is(okBig.sha256, sha256(big));
});

test('large GETs (16 MiB and more) at once: the two on the larger buffers and the rest all complete intact; a flipped byte near the end fails; clients that leave midway', async (t) => {
  // An HTTP thread streams up to two large objects with 4× buffers (target/bufpool.ts, LargeGetBuffers)
  // and the others with the usual ones; whole-object reads verify the checksum either way.
  const b = 'largeget';
  const big = random(20 * MiB + 12_345);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'good', Body: big }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'bad', Body: big }));
  const all = await Promise.all(Array.from({ length: 5 }, () => getStreamed(node.url, objPath(b, 'good'))));
  for (const r of all) t.deepEqual([r.status, r.length, r.sha256, r.error], [200, big.length, sha256(big), undefined]);
  const ranged = await getStreamed(node.url, objPath(b, 'good'), { range: `bytes=1000-${18 * MiB}` });
  t.is(ranged.status, 206);
  t.is(ranged.sha256, sha256(big.subarray(1000, 18 * MiB + 1)));
  flipByte(objectFile(node, b, 'bad'), big.length - 3 * MiB);
  const bad = await Promise.all(Array.from({ length: 3 }, () => getStreamed(node.url, objPath(b, 'bad'))));
  for (const r of bad) t.false(r.status === 200 && r.error === undefined && r.length === big.length, `a corrupted object must not complete as a 200: ${r.status} ${r.length} ${r.error}`);
  // The buffers came back: the good object is still served whole, again several at once.
  const again = await Promise.all(Array.from({ length: 3 }, () => getStreamed(node.url, objPath(b, 'good'))));
  for (const r of again) t.is(r.sha256, sha256(big));
  // Clients that leave after the first bytes, while reads ahead of them are in flight: the streams
  // end, and the objects are served whole again afterwards.
  const left = await Promise.all(Array.from({ length: 4 }, () => leaveAfterFirstBytes(node.url, objPath(b, 'good'))));
  t.deepEqual(left, [200, 200, 200, 200]);
  const after = await Promise.all(Array.from({ length: 3 }, () => getStreamed(node.url, objPath(b, 'good'))));
  for (const r of after) t.deepEqual([r.status, r.length, r.sha256], [200, big.length, sha256(big)]);
  const tail = await getStreamed(node.url, objPath(b, 'good'), { range: `bytes=${big.length - 5 * MiB - 7}-` });
  t.is(tail.sha256, sha256(big.subarray(big.length - 5 * MiB - 7)));
});


test('a truncated object file (shorter than its metadata says) is not served as good', async (t) => {
  const b = 'corrupt2';
  const data = random(3 * MiB);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'shrunk', Body: data }));
  fs.truncateSync(objectFile(node, b, 'shrunk'), 2 * MiB + 1);
  const r = await getStreamed(node.url, objPath(b, 'shrunk'));
  t.false(r.status === 200 && r.error === undefined && r.length === data.length);
  const small = random(1000);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'shrunk-small', Body: small }));
  fs.truncateSync(objectFile(node, b, 'shrunk-small'), 999);
  const rs = await request(node.url, { method: 'GET', path: objPath(b, 'shrunk-small') });
  t.is(rs.status, 500);
  // A large one cut in the middle: the reads past the new end find the file short while the pieces
  // before it are still being sent.
  const big = random(20 * MiB + 5);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'shrunk-big', Body: big }));
  fs.truncateSync(objectFile(node, b, 'shrunk-big'), 9 * MiB + 1);
  const rb = await getStreamed(node.url, objPath(b, 'shrunk-big'));
  t.false(rb.status === 200 && rb.error === undefined && rb.length === big.length, `${rb.status} ${rb.length} ${rb.error}`);
  t.true(rb.length <= 9 * MiB + 1);
});

test('corrupted metadata (LOM xattr): 404, not served and not listed; repaired, served again', async (t) => {
  const b = 'corrupt3';
  const data = random(4096);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'lom/victim', Body: data }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'lom/bystander', Body: Buffer.from('ok') }));
  const file = objectFile(node, b, 'lom/victim');
  const good = getxattr(file, LOM_XATTR)!;
  t.is(decodeLom(good).size, data.length);
  const bad = Buffer.from(good);
  bad[bad.length - 3] ^= 0x01;
  const fd = fs.openSync(file, 'r');
  try {
    fsetxattr(fd, LOM_XATTR, bad);
  } finally {
    fs.closeSync(fd);
  }
  const get = await request(node.url, { method: 'GET', path: objPath(b, 'lom/victim') });
  t.is(get.status, 404);
  t.is(xmlCode(get.body), 'NoSuchKey');
  t.false(get.body.includes(data.subarray(0, 64)), 'no object bytes in the answer');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(b, 'lom/victim') })).status, 404);
  t.deepEqual(await listAll(b, 'lom/'), ['lom/bystander']);

  const fd2 = fs.openSync(file, 'r');
  try {
    fsetxattr(fd2, LOM_XATTR, good);
  } finally {
    fs.closeSync(fd2);
  }
  const again = await request(node.url, { method: 'GET', path: objPath(b, 'lom/victim') });
  t.is(again.status, 200);
  t.is(sha256(again.body), sha256(data));

  // A file without any metadata (dropped into the bucket folder by hand) is not an object either.
  for (const d of bucketDirs(node, b)) {
    fs.mkdirSync(path.join(d, '%ob', 'lom'), { recursive: true });
    fs.writeFileSync(path.join(d, '%ob', 'lom', 'stray'), 'not an object');
  }
  t.is((await request(node.url, { method: 'GET', path: objPath(b, 'lom/stray') })).status, 404);
  t.deepEqual(await listAll(b, 'lom/'), ['lom/bystander', 'lom/victim']);
});

// ---------------------------------------------------------------------------------------------------
// Truncated and mismatching bodies

/** Sends a PUT whose body is shorter than its Content-Length, then closes the connection. */
function truncatedPut(n: AisNode, p: string, declared: number, sent: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(n.port, '127.0.0.1', () => {
      sock.write(`PUT ${p} HTTP/1.1\r\nHost: 127.0.0.1:${n.port}\r\nContent-Length: ${declared}\r\nContent-Type: application/octet-stream\r\n\r\n`);
      sock.write(sent, () => setTimeout(() => sock.destroy(), 100));
    });
    let answer = '';
    sock.on('data', (d) => (answer += d.toString()));
    sock.on('close', () => resolve(answer));
    sock.on('error', () => {});
  });
}

test('truncated body (Content-Length 1000, 500 sent, connection closed): nothing created, old version intact, no work files', async (t) => {
  const b = 'trunc';
  const answer = await truncatedPut(node, objPath(b, 'new'), 1000, random(500));
  t.false(answer.startsWith('HTTP/1.1 200'), `no success answer: ${answer.slice(0, 40)}`);
  t.is((await request(node.url, { method: 'HEAD', path: objPath(b, 'new') })).status, 404);

  const old = random(10_000);
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'old', Body: old }));
  await truncatedPut(node, objPath(b, 'old'), 3 * MiB, random(2 * MiB + 5));
  await truncatedPut(node, objPath(b, 'old'), 1000, random(500));
  const get = await request(node.url, { method: 'GET', path: objPath(b, 'old') });
  t.is(get.status, 200);
  t.is(sha256(get.body), sha256(old));
  t.is(get.headers.etag, `"${md5(old)}"`);
  t.deepEqual(await listAll(b), ['old']);
  t.deepEqual(await settleWorkFiles(node, b), []);
});

test('body longer than Content-Length on a kept-alive connection: the object holds exactly Content-Length bytes', async (t) => {
  // HTTP framing: the extra bytes are the start of the next request, never part of this object.
  const b = 'trunc2';
  const data = random(1000);
  const answer = await new Promise<string>((resolve) => {
    const sock = net.connect(node.port, '127.0.0.1', () => {
      sock.write(`PUT ${objPath(b, 'exact')} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n`);
      sock.write(Buffer.concat([data, Buffer.from('GARBAGE-NOT-HTTP\r\n\r\n')]));
      setTimeout(() => sock.destroy(), 500);
    });
    let s = '';
    sock.on('data', (d) => (s += d.toString()));
    sock.on('close', () => resolve(s));
    sock.on('error', () => {});
  });
  // uWS may answer the garbage (505) and close before the PUT's 200 goes out: the object must still hold
  // exactly the declared bytes.
  t.regex(answer, /^HTTP\/1\.1 (200|505)/, answer.slice(0, 60));
  const get = await request(node.url, { method: 'GET', path: objPath(b, 'exact') });
  if (answer.startsWith('HTTP/1.1 200')) t.is(get.status, 200);
  // Either the object is exactly the declared bytes, or (connection refused mid-request) it is absent.
  if (get.status === 200) t.is(sha256(get.body), sha256(data));
  else t.is(get.status, 404);
});

test('Content-MD5 that does not match the body: 400 BadDigest, nothing stored', async (t) => {
  const b = 'digest';
  const data = random(4000);
  const good = await request(node.url, { method: 'PUT', path: objPath(b, 'md5ok'), body: data, headers: { 'Content-MD5': createHash('md5').update(data).digest('base64') } });
  t.is(good.status, 200);
  const wrong = createHash('md5').update('something else').digest('base64');
  const bad = await request(node.url, { method: 'PUT', path: objPath(b, 'md5bad'), body: data, headers: { 'Content-MD5': wrong } });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'BadDigest');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(b, 'md5bad') })).status, 404);
  // Over an existing object: the old one stays.
  const over = await request(node.url, { method: 'PUT', path: objPath(b, 'md5ok'), body: random(4000), headers: { 'Content-MD5': wrong } });
  t.is(over.status, 400);
  t.is(sha256((await request(node.url, { method: 'GET', path: objPath(b, 'md5ok') })).body), sha256(data));
});

test('authentication off: a hex x-amz-content-sha256 is still checked (PUT small and large, UploadPart, DeleteObjects); UNSIGNED-PAYLOAD is not', async (t) => {
  const b = 'digest2';
  const hex = (d: Buffer | string): string => createHash('sha256').update(d).digest('hex');
  for (const size of [4000, 3 * MiB + 7]) {
    const data = random(size);
    const good = await request(node.url, { method: 'PUT', path: objPath(b, `sha-ok-${size}`), body: data, headers: { 'x-amz-content-sha256': hex(data) } });
    t.is(good.status, 200, `${size}`);
    const upper = await request(node.url, { method: 'PUT', path: objPath(b, `sha-upper-${size}`), body: data, headers: { 'x-amz-content-sha256': hex(data).toUpperCase() } });
    t.is(upper.status, 200, `${size} upper-case hex`);
    const bad = await request(node.url, { method: 'PUT', path: objPath(b, `sha-bad-${size}`), body: data, headers: { 'x-amz-content-sha256': hex('other') } });
    t.is(bad.status, 400, `${size}`);
    t.is(xmlCode(bad.body), 'XAmzContentSHA256Mismatch');
    t.is((await request(node.url, { method: 'HEAD', path: objPath(b, `sha-bad-${size}`) })).status, 404);
    // Over an existing object: the old one stays.
    const over = await request(node.url, { method: 'PUT', path: objPath(b, `sha-ok-${size}`), body: random(size), headers: { 'x-amz-content-sha256': hex('other') } });
    t.is(xmlCode(over.body), 'XAmzContentSHA256Mismatch');
    t.is(sha256((await request(node.url, { method: 'GET', path: objPath(b, `sha-ok-${size}`) })).body), sha256(data));
  }
  const unsigned = await request(node.url, { method: 'PUT', path: objPath(b, 'sha-unsigned'), body: 'x', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  t.is(unsigned.status, 200);
  // UploadPart: the part is not stored.
  const init = await request(node.url, { method: 'POST', path: objPath(b, 'sha-mpu') + '?uploads' });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body.toString())![1]!;
  const part = await request(node.url, { method: 'PUT', path: `${objPath(b, 'sha-mpu')}?partNumber=1&uploadId=${uploadId}`, body: 'part', headers: { 'x-amz-content-sha256': hex('trap') } });
  t.is(xmlCode(part.body), 'XAmzContentSHA256Mismatch');
  const parts = await request(node.url, { method: 'GET', path: `${objPath(b, 'sha-mpu')}?uploadId=${uploadId}` });
  t.deepEqual(xmlAll(parts.body, 'PartNumber'), []);
  // A small-body request: DeleteObjects does nothing.
  const del = '<Delete><Object><Key>sha-unsigned</Key></Object></Delete>';
  const d = await request(node.url, { method: 'POST', path: `/s3/${b}?delete`, body: del, headers: { 'x-amz-content-sha256': hex('not the body') } });
  t.is(d.status, 400);
  t.is(xmlCode(d.body), 'XAmzContentSHA256Mismatch');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(b, 'sha-unsigned') })).status, 200);
});

// Known gap, issue 4 (S3 completeness): trailing x-amz-checksum-* values are not validated yet.
test('aws-chunked body with a wrong x-amz-checksum-crc32 trailer: 400 BadDigest, nothing stored', async (t) => {
  const b = 'digest2';
  const data = random(70_000);
  const crc = (buf: Buffer): string => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(zlib.crc32(buf) >>> 0);
    return out.toString('base64');
  };
  const frame = (checksum: string): Buffer =>
    Buffer.concat([
      Buffer.from(`${(40_000).toString(16)}\r\n`),
      data.subarray(0, 40_000),
      Buffer.from(`\r\n${(30_000).toString(16)}\r\n`),
      data.subarray(40_000),
      Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`),
    ]);
  const headers = {
    'Content-Encoding': 'aws-chunked',
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'x-amz-decoded-content-length': String(data.length),
    'x-amz-trailer': 'x-amz-checksum-crc32',
  };
  const ok = await request(node.url, { method: 'PUT', path: objPath(b, 'crc-ok'), body: frame(crc(data)), headers });
  t.is(ok.status, 200, ok.body.toString());
  t.is(sha256((await request(node.url, { method: 'GET', path: objPath(b, 'crc-ok') })).body), sha256(data));
  const bad = await request(node.url, { method: 'PUT', path: objPath(b, 'crc-bad'), body: frame(crc(Buffer.from('other'))), headers });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'BadDigest');
  t.is((await request(node.url, { method: 'HEAD', path: objPath(b, 'crc-bad') })).status, 404);
});

// ---------------------------------------------------------------------------------------------------
// Crash in the middle of a PUT

/** Deterministic pseudo-random stream of `total` bytes in 1 MiB pieces, generated as it goes. */
function* generated(total: number, seed: number): Generator<Buffer> {
  const base = createHash('sha512').update(`seed-${seed}`).digest();
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += base.length) base.copy(block, i);
  for (let off = 0, n = 0; off < total; off += MiB, n++) {
    const piece = Buffer.from(block.subarray(0, Math.min(MiB, total - off)));
    // Every piece differs: its number and a cheap mix over the whole piece.
    for (let i = 0; i < piece.length; i += 4096) piece.writeUInt32LE((n * 2654435761 + i) >>> 0, i);
    yield piece;
  }
}

test('kill -9 in the middle of a large PUT: after restart the old object is intact and no work files remain', async (t) => {
  t.timeout(60_000, 'stalled');
  const crash = await startNode({ name: 'crash' });
  const c3 = s3Client(crash.url);
  try {
    const b = 'crash';
    await c3.send(new CreateBucketCommand({ Bucket: b }));
    const old = random(8 * MiB + 11);
    await c3.send(new PutObjectCommand({ Bucket: b, Key: 'obj', Body: old }));

    const TOTAL = 200 * MiB;
    let sent = 0;
    const putDone = new Promise<string>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: crash.port, method: 'PUT', path: objPath(b, 'obj'), headers: { 'Content-Length': TOTAL }, agent: false });
      req.on('error', (e) => resolve(`error: ${e.message}`));
      req.on('response', (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      });
      const gen = generated(TOTAL, 1);
      const pump = (): void => {
        for (;;) {
          const next = gen.next();
          if (next.done) return void req.end();
          sent += next.value.length;
          // Slowly: a pause between pieces, so the kill lands mid-body.
          if (!req.write(next.value)) return void req.once('drain', () => setTimeout(pump, 5));
          return void setTimeout(pump, 5);
        }
      };
      pump();
    });
    // Wait until ~20 MiB are out and the node is writing a work file, then kill it.
    for (let i = 0; i < 600 && !(sent >= 20 * MiB && workFiles(crash, b).some((f) => fs.statSync(f, { throwIfNoEntry: false })?.size)); i++) await sleep(50);
    const pid = crash.pid!;
    t.true(sent < TOTAL, 'the PUT is still under way');
    const partial = workFiles(crash, b);
    t.true(partial.length > 0, 'a work file is being written');
    t.is(await crash.kill('SIGKILL'), 'SIGKILL');
    const outcome = await putDone;
    t.log(`PUT after ${(sent / MiB).toFixed(0)} MiB sent: ${outcome}`);
    t.false(outcome.startsWith('status 2'), 'the interrupted PUT did not succeed');
    t.true(workFiles(crash, b).length > 0, 'the crash left the work file behind');

    await crash.restart();
    t.not(crash.pid, pid);
    t.deepEqual(allWorkFiles(crash), [], 'restart removed the work files');
    for (const d of bucketDirs(crash, b)) t.deepEqual(fs.readdirSync(path.join(d, '%wk')), []);
    const get = await request(crash.url, { method: 'GET', path: objPath(b, 'obj') });
    t.is(get.status, 200);
    t.is(get.body.length, old.length);
    t.is(sha256(get.body), sha256(old), 'the old version is intact');
    t.is(get.headers.etag, `"${md5(old)}"`);
    const listed = await c3.send(new ListObjectsV2Command({ Bucket: b }));
    t.deepEqual(
      listed.Contents?.map((c) => [c.Key, c.Size]),
      [['obj', old.length]],
    );
    // Buckets survive the restart too, and the node takes new writes.
    const fresh = random(MiB + 1);
    await c3.send(new PutObjectCommand({ Bucket: b, Key: 'obj', Body: fresh }));
    t.is(sha256((await request(crash.url, { method: 'GET', path: objPath(b, 'obj') })).body), sha256(fresh));
  } finally {
    c3.destroy();
    await crash.stop();
  }
});

// ---------------------------------------------------------------------------------------------------
// 1 GiB through PUT and GET, streamed on both sides, the node's memory sampled

function* hashing(gen: Iterable<Buffer>, hashes: ReturnType<typeof createHash>[]): Generator<Buffer> {
  for (const b of gen) {
    for (const h of hashes) h.update(b);
    yield b;
  }
}

/** PUT with a plain body and Content-Length, written with back-pressure. */
function putContentLength(n: AisNode, p: string, total: number, body: Iterable<Buffer>): Promise<{ status: number; etag?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: n.port, method: 'PUT', path: p, headers: { 'Content-Length': total }, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag, body: text }));
    });
    req.on('error', reject);
    const it = body[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        const next = it.next();
        if (next.done) return void req.end();
        if (!req.write(next.value)) return void req.once('drain', pump);
      }
    };
    pump();
  });
}

const GiB = 1024 * MiB;
const RSS_BOUND = 400 * MiB;

/**
 * 1 GiB PUT then GET on a fresh node, generated and hashed on the fly on this side (never held), the
 * node's RSS sampled from /proc during both transfers.
 */
async function gibRoundTrip(t: ExecutionContext, how: 'content-length' | 'sdk-aws-chunked'): Promise<void> {
  t.timeout(150_000, 'a 1 GiB round trip that stalls');
  const big = await startNode({ name: `gib-${how}` });
  const sdk = s3Client(big.url, { sdkDefaultChecksums: true });
  let sampler: NodeJS.Timeout | undefined;
  try {
    const b = 'gib';
    t.is((await request(big.url, { method: 'PUT', path: `/s3/${b}` })).status, 200);
    const pid = big.pid!;
    const base = procMem(pid);
    let peak = base.rss;
    sampler = setInterval(() => {
      try {
        peak = Math.max(peak, procMem(pid).rss);
      } catch {
        /* exited */
      }
    }, 25);
    sampler.unref();

    const sha = createHash('sha256');
    const md = createHash('md5');
    const body = hashing(generated(GiB, 42), [sha, md]);
    let etag: string | undefined;
    if (how === 'content-length') {
      const put = await putContentLength(big, objPath(b, 'gib'), GiB, body).catch((err: Error) => ({ status: 0, etag: undefined, body: `connection failed: ${err.message}` }));
      t.is(put.status, 200, `PUT of 1 GiB with Content-Length: ${GiB}: ${put.body}`);
      etag = put.etag;
    } else {
      const put = await sdk.send(new PutObjectCommand({ Bucket: b, Key: 'gib', Body: Readable.from(body), ContentLength: GiB }));
      etag = put.ETag;
    }
    const putPeak = peak;
    const expectSha = sha.digest('hex');
    t.is(etag, `"${md.digest('hex')}"`);
    const file = objectFile(big, b, 'gib');
    t.is(fs.statSync(file).size, GiB);

    const got = await getStreamed(big.url, objPath(b, 'gib'));
    clearInterval(sampler);
    t.is(got.status, 200);
    t.is(got.error, undefined);
    t.is(got.length, GiB);
    t.is(got.sha256, expectSha);
    t.is(got.headers['content-length'], String(GiB));

    const end = procMem(pid);
    const mb = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;
    t.log(`aisnode RSS (${how}): start ${mb(base.rss)}, peak during PUT ${mb(putPeak)}, during PUT+GET ${mb(peak)}, VmHWM ${mb(end.hwm)}`);
    t.true(peak < RSS_BOUND, `peak RSS ${mb(peak)} must stay below ${mb(RSS_BOUND)} for a 1 GiB object`);
    t.true(end.hwm < RSS_BOUND, `VmHWM ${mb(end.hwm)} must stay below ${mb(RSS_BOUND)}`);
  } finally {
    if (sampler) clearInterval(sampler);
    sdk.destroy();
    await big.stop();
  }
}

// Serial: the two 1 GiB transfers run one after the other (2 cores, one disk), before the rest of this file.
test.serial('1 GiB PUT with Content-Length: 1073741824, then GET, streamed (RSS sampled)', (t) => gibRoundTrip(t, 'content-length'));
test.serial('1 GiB PUT through the SDK (aws-chunked stream), then GET, streamed (RSS sampled)', (t) => gibRoundTrip(t, 'sdk-aws-chunked'));
