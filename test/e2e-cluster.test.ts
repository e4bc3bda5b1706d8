// End to end, a real cluster: a primary proxy, a second proxy and three targets, each its own aisnode
// process on loopback. Objects land on their HRW owner target and mountpath (checked on disk, computed
// here from the Smap's exact id_digest), every node serves every object, metadata versions reach every
// node, listings merge all targets page by page, and a killed target leaves and rejoins.
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import { S3Client, CopyObjectCommand, CreateBucketCommand, GetObjectCommand, PutObjectCommand, ListObjectsV2Command, DeleteBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { startCluster, startClusterWithObjects, misplacedObjects, hrwPlacement, targetIdOf, logNodesOnFailure, FAST_KEEPALIVE, type Cluster } from './helpers/cluster';
import { s3Client, request, md5, mapLimit, compareUtf8, random, sleep, xmlCode, type AisNode } from './helpers/node';
import { digestOf } from '../src/cluster/hrw';
import { presignQuery, formatAmzDate } from '../src/s3/sigv4';

const B = 'clu-bucket';
const N = 120;
let c: Cluster;
let s3: S3Client;
const bodies = new Map<string, Buffer>();

test.before(async () => {
  for (let i = 0; i < N; i++) bodies.set(`obj-${String(i).padStart(4, '0')}${i % 7 === 0 ? '/nested/x' : ''}`, random(100 + ((i * 997) % 5000)));
  ({ cluster: c, s3 } = await startClusterWithObjects({ proxies: 2, targets: 3, name: 'e2eclu', config: FAST_KEEPALIVE }, B, bodies));
});

test.afterEach.always((t) => logNodesOnFailure(t, c));

test.after.always(async () => {
  await c?.stop();
});

test.serial('every object is stored once, on its HRW owner target and mountpath', async (t) => {
  const smap = await c.smap();
  const ids = Object.values(smap.tmap)
    .map((s) => s.daemon_id)
    .sort();
  const cands: [string, bigint][] = ids.map((id) => [id, BigInt(smap.tmap[id]!.id_digest)]);
  // id_digest on the wire is XXH64(daemon id, MLCG32), exactly (a uint64 beyond 2^53).
  for (const [id, d] of cands) t.is(d, digestOf(id), `id_digest of ${id}`);
  const perTarget = new Map<string, number>();
  for (const [key, body] of bodies) {
    const { id: owner, file } = hrwPlacement(smap, c.targets, B, key);
    perTarget.set(owner, (perTarget.get(owner) ?? 0) + 1);
    t.true(fs.existsSync(file), `${key} on ${owner} at ${file}`);
    t.deepEqual(fs.readFileSync(file), body);
  }
  // ... and on no other target or mountpath
  t.deepEqual(await misplacedObjects(c, B, bodies.keys()), []);
  t.is(perTarget.size, 3, `objects spread over all targets: ${JSON.stringify([...perTarget])}`);
});

test.serial('every proxy and every target serves every object (reverse proxy, no redirect)', async (t) => {
  for (const n of [...c.proxies, ...c.targets]) {
    const client = s3Client(n.url);
    await mapLimit([...bodies].slice(0, 40), 8, async ([key, body]) => {
      const r = await client.send(new GetObjectCommand({ Bucket: B, Key: key }));
      t.is(r.$metadata.httpStatusCode, 200);
      t.deepEqual(Buffer.from(await r.Body!.transformToByteArray()), body, `${key} via ${n.url}`);
      t.is(r.ETag, `"${md5(body)}"`);
    });
    // Range and HEAD through the same node
    const [key, body] = [...bodies][3]!;
    const rg = await request(n.url, { method: 'GET', path: `/s3/${B}/${key}`, headers: { Range: 'bytes=10-19' } });
    t.is(rg.status, 206);
    t.deepEqual(rg.body, body.subarray(10, 20));
    const h = await client.send(new HeadObjectCommand({ Bucket: B, Key: key }));
    t.is(h.ContentLength, body.length);
  }
});

test.serial('a large object through the gateway to a reader that stalls, beside small reads on the same gateway', async (t) => {
  // The gateway relays the owner's bytes from its connection's read buffer; a reader that stops makes
  // it keep what the client socket did not take, stop reading the owner, and go on where it left off.
  const body = random(24 * 1024 * 1024 + 5);
  // A bucket of its own: the listing test below expects B to hold exactly `bodies`.
  const SB = 'clu-stall';
  const key = 'big/stalling-reader';
  const p = c.proxies[0]!.url;
  t.is((await request(p, { method: 'PUT', path: `/s3/${SB}` })).status, 200);
  const put = await request(p, { method: 'PUT', path: `/s3/${SB}/${key}`, body });
  t.is(put.status, 200);
  const u = new URL(p);
  const stalled = new Promise<{ status: number; got: Buffer; pauses: number }>((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path: `/s3/${SB}/${key}`, agent: false }, (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        let pauses = 0;
        let next = 1024 * 1024;
        res.on('data', (d: Buffer) => {
          parts.push(d);
          n += d.length;
          if (n >= next && pauses < 4) {
            pauses++;
            next += 3 * 1024 * 1024;
            res.pause();
            setTimeout(() => res.resume(), 250);
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, got: Buffer.concat(parts), pauses }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
  // Meanwhile small objects through the same gateway: pooled connections to the owners stay in step.
  const small = [...bodies].slice(0, 30);
  await mapLimit(small, 4, async ([k, b]) => {
    const r = await request(p, { method: 'GET', path: `/s3/${B}/${k}` });
    t.is(r.status, 200);
    t.true(r.body.equals(b), k);
  });
  const r = await stalled;
  t.is(r.status, 200);
  t.is(r.pauses, 4);
  t.is(r.got.length, body.length);
  t.is(md5(r.got), md5(body));
  const again = await request(p, { method: 'GET', path: `/s3/${SB}/${key}`, headers: { Range: `bytes=${body.length - 100}-` } });
  t.is(again.status, 206);
  t.true(again.body.equals(body.subarray(body.length - 100)));
  t.is((await request(p, { method: 'DELETE', path: `/s3/${SB}/${key}` })).status, 204);
  t.is((await request(p, { method: 'DELETE', path: `/s3/${SB}` })).status, 204);
});

test.serial('a bucket created through the second proxy reaches every node with one BMD version', async (t) => {
  const p2 = c.proxies[1]!;
  await s3Client(p2.url).send(new CreateBucketCommand({ Bucket: 'via-p2' }));
  const bmds = await Promise.all(
    [...c.proxies, ...c.targets].map(async (n) => {
      const r = await request(n.url, { method: 'GET', path: '/v1/cluster?what=bmd' });
      return JSON.parse(r.body.toString()) as { version: number; buckets: Record<string, unknown> };
    }),
  );
  t.true(bmds.every((b) => b.version === bmds[0]!.version), `BMD versions ${bmds.map((b) => b.version).join(',')}`);
  t.true(bmds.every((b) => Object.hasOwn(b.buckets, 'via-p2')));
  // the same for the Smap and the config
  const versions = await Promise.all([...c.proxies, ...c.targets].map((n) => c.smap(n).then((s) => s.version)));
  t.true(versions.every((v) => v === versions[0]));
  // Every target has the bucket's folders; PUT through p2 and GET through the primary.
  await s3Client(p2.url).send(new PutObjectCommand({ Bucket: 'via-p2', Key: 'k', Body: 'v' }));
  const g = await s3.send(new GetObjectCommand({ Bucket: 'via-p2', Key: 'k' }));
  t.is(await g.Body!.transformToString(), 'v');
  // Not empty: S3 rules on DeleteBucket, whichever proxy is asked (the primary checks every target).
  const del = await request(p2.url, { method: 'DELETE', path: '/s3/via-p2' });
  t.is(del.status, 409);
  t.is(xmlCode(del.body), 'BucketNotEmpty');
  await request(p2.url, { method: 'DELETE', path: '/s3/via-p2/k' });
  await s3Client(p2.url).send(new DeleteBucketCommand({ Bucket: 'via-p2' }));
  const gone = await request(c.targets[0]!.url, { method: 'HEAD', path: '/s3/via-p2' });
  t.is(gone.status, 404);
});

test.serial('a listing merges all targets: every page size gives the one sorted list', async (t) => {
  const want = [...bodies.keys()].sort(compareUtf8);
  for (const n of [c.proxies[1]!, c.targets[2]!]) {
    const client = s3Client(n.url);
    for (const max of [1, 7, 50, 1000]) {
      const got: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: max, ContinuationToken: token }));
        got.push(...(r.Contents ?? []).map((o) => o.Key!));
        t.true((r.KeyCount ?? 0) <= max);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
        pages++;
      } while (token);
      t.deepEqual(got, want, `MaxKeys ${max} via ${n.url}`);
      t.is(pages, Math.max(1, Math.ceil(want.length / max)));
    }
    // with a delimiter: the common prefixes of all targets merged once each
    const r = await client.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/', MaxKeys: 1000 }));
    const cps = (r.CommonPrefixes ?? []).map((p) => p.Prefix!);
    t.deepEqual(cps, [...new Set(want.filter((k) => k.includes('/')).map((k) => k.slice(0, k.indexOf('/') + 1)))]);
    t.is((r.Contents ?? []).length, want.filter((k) => !k.includes('/')).length);
  }
});

test.serial('redirect mode (proxy.s3_redirect): 307 to the owner target, which serves the object', async (t) => {
  const red = await startCluster({ targets: 2, name: 'redir', config: { proxy: { s3_redirect: true } } });
  try {
    const body = random(3000);
    await request(red.primary.url, { method: 'PUT', path: '/s3/rbkt' });
    // PUT to the proxy: 307 to the owner; following it stores the object there.
    const put = await request(red.primary.url, { method: 'PUT', path: '/s3/rbkt/obj', body });
    t.is(put.status, 307);
    const loc = put.headers.location!;
    t.regex(loc, /^http:\/\/127\.0\.0\.1:\d+\/s3\/rbkt\/obj\?ais-utm=[0-9a-z]+&ais-rsig=[\w-]+$/);
    t.true(red.targets.some((n) => loc.startsWith(n.url)));
    const u = new URL(loc);
    const put2 = await request(`${u.protocol}//${u.host}`, { method: 'PUT', path: u.pathname + u.search, body });
    t.is(put2.status, 200);
    const get = await request(red.primary.url, { method: 'GET', path: '/s3/rbkt/obj' });
    t.is(get.status, 307);
    const g = new URL(get.headers.location!);
    t.is(g.host, u.host);
    const g2 = await request(`${g.protocol}//${g.host}`, { method: 'GET', path: g.pathname + g.search });
    t.deepEqual(g2.body, body);
  } finally {
    await red.stop();
  }
});

test.serial('kill -9 a target: out of the Smap within seconds; restarted, it rejoins and serves its objects', async (t) => {
  const victim = c.targets[1]!;
  const smap0 = await c.smap();
  const id = targetIdOf(smap0, victim)!;
  const t0 = Date.now();
  await victim.kill('SIGKILL');
  let smap = smap0;
  while (Object.hasOwn(smap.tmap, id)) {
    if (Date.now() - t0 > 10_000) return t.fail('victim still in the Smap after 10 s');
    await sleep(100);
    smap = await c.smap();
  }
  const gone = Date.now() - t0;
  t.true(gone < 6000, `removed after ${gone} ms`);
  t.log(`target ${id} removed from Smap v${smap.version} ${gone} ms after kill -9`);
  // The others still serve what they own.
  const keys = [...bodies.keys()];
  const served = await mapLimit(keys, 8, async (k) => (await request(c.primary.url, { method: 'GET', path: `/s3/${B}/${k}` })).status);
  t.true(served.filter((s) => s === 200).length > 0);
  await victim.restart();
  smap = await c.settle(3);
  t.true(Object.hasOwn(smap.tmap, id), 'same daemon id after restart');
  // Every object readable again, byte for byte, through both proxies.
  for (const p of c.proxies) {
    await mapLimit([...bodies], 8, async ([key, body]) => {
      const r = await request(p.url, { method: 'GET', path: `/s3/${B}/${key}` });
      t.is(r.status, 200, key);
      t.deepEqual(r.body, body);
    });
  }
});

test.serial('with S3 keys: signed SDK requests through a proxy verify on the gateway and the owner; a presigned URL follows a 307', async (t) => {
  const keys = { AKIDCLUSTER: 'cluster-secret-key' };
  const sec = await startCluster({ targets: 2, name: 'auth', config: { auth: { s3: { keys } } } });
  try {
    const client = new S3Client({
      endpoint: `${sec.primary.url}/s3`,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDCLUSTER', secretAccessKey: 'cluster-secret-key' },
      maxAttempts: 1,
    });
    await client.send(new CreateBucketCommand({ Bucket: 'sec' }));
    const body = random(200_000);
    // The SDK at its defaults: aws-chunked body with a CRC32 trailer, verified by the owner target.
    for (let i = 0; i < 6; i++) await client.send(new PutObjectCommand({ Bucket: 'sec', Key: `o${i}`, Body: body }));
    for (let i = 0; i < 6; i++) {
      const g = await client.send(new GetObjectCommand({ Bucket: 'sec', Key: `o${i}` }));
      t.deepEqual(Buffer.from(await g.Body!.transformToByteArray()), body);
    }
    // Unsigned, or with a wrong secret: refused by the gateway, nothing forwarded.
    const anon = await request(sec.primary.url, { method: 'GET', path: '/s3/sec/o1' });
    t.is(anon.status, 403);
    const bad = new S3Client({ endpoint: `${sec.primary.url}/s3`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'AKIDCLUSTER', secretAccessKey: 'wrong' }, maxAttempts: 1 });
    const err = await t.throwsAsync(bad.send(new GetObjectCommand({ Bucket: 'sec', Key: 'o1' })));
    t.is((err as { Code?: string }).Code, 'SignatureDoesNotMatch');
  } finally {
    await sec.stop();
  }
  // Redirect mode with keys: a presigned PUT and GET get a 307 and their Locations work.
  const red = await startCluster({ targets: 2, name: 'authred', config: { auth: { s3: { keys } }, proxy: { s3_redirect: true } } });
  try {
    await request(red.primary.url, { method: 'PUT', path: `/s3/sec?${presign(red.primary, 'PUT', '/s3/sec')}` });
    const body = random(70_000);
    const follow = async (method: string, path: string, data?: Buffer): Promise<{ status: number; body: Buffer; loc: URL }> => {
      const r = await request(red.primary.url, { method, path: `${path}?${presign(red.primary, method, path)}`, body: data });
      t.is(r.status, 307, `${method} ${path}: ${r.body.toString()}`);
      const loc = new URL(r.headers.location!);
      const f = await request(`${loc.protocol}//${loc.host}`, { method, path: loc.pathname + loc.search, body: data });
      return { status: f.status, body: f.body, loc };
    };
    t.is((await follow('PUT', '/s3/sec/o2', body)).status, 200);
    const got = await follow('GET', '/s3/sec/o2');
    t.is(got.status, 200);
    t.deepEqual(got.body, body);
    // A forged token is not trusted: the owner verifies the signature itself, and the Host differs → 403.
    const forged = got.loc.search.replace(/ais-rsig=[\w-]+/, 'ais-rsig=AAAA');
    const f = await request(`${got.loc.protocol}//${got.loc.host}`, { method: 'GET', path: got.loc.pathname + forged });
    t.is(f.status, 403);
  } finally {
    await red.stop();
  }
});

function presign(n: AisNode, method: string, path: string): string {
  return presignQuery({ method, path, host: new URL(n.url).host, accessKey: 'AKIDCLUSTER', secret: 'cluster-secret-key', region: 'us-east-1', amzDate: formatAmzDate(Date.now()), expires: 600 });
}

test.serial('CopyObject across targets: bytes, metadata (COPY and REPLACE), copy-source conditions, missing source', async (t) => {
  const smap = await c.smap();
  const ownerOf = (key: string): string => hrwPlacement(smap, c.targets, B, key).id;
  const src = 'copy-src';
  const body = random(3 * 1024 * 1024 + 17); // several PUT buffers
  await s3.send(new PutObjectCommand({ Bucket: B, Key: src, Body: body, ContentType: 'text/x-src', Metadata: { origin: 'here' } }));
  // A destination name whose owner is another target than the source's.
  let dst = '';
  for (let i = 0; !dst; i++) if (ownerOf(`copy-dst-${i}`) !== ownerOf(src)) dst = `copy-dst-${i}`;
  const via = s3Client(c.proxies[1]!.url);
  const r = await via.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}` }));
  t.is(r.CopyObjectResult?.ETag, `"${md5(body)}"`);
  const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: dst }));
  t.deepEqual(Buffer.from(await g.Body!.transformToByteArray()), body);
  t.is(g.ContentType, 'text/x-src');
  t.deepEqual(g.Metadata, { origin: 'here' });
  // REPLACE takes the request's metadata.
  await via.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}`, MetadataDirective: 'REPLACE', ContentType: 'text/x-new', Metadata: { fresh: '1' } }));
  const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: dst }));
  t.is(h.ContentType, 'text/x-new');
  t.deepEqual(h.Metadata, { fresh: '1' });
  // Copy-source conditions hold across targets: a wrong If-Match is 412, nothing changes.
  const e1 = await t.throwsAsync(via.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}`, CopySourceIfMatch: '"0123"' })));
  t.is((e1 as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode, 412);
  const e2 = await t.throwsAsync(via.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}`, CopySourceIfNoneMatch: `"${md5(body)}"` })));
  t.is((e2 as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode, 412);
  let missing = '';
  for (let i = 0; !missing; i++) if (ownerOf(`nothing-${i}`) !== ownerOf(dst)) missing = `nothing-${i}`;
  const e3 = await t.throwsAsync(via.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${missing}` })));
  t.is((e3 as { Code?: string }).Code, 'NoSuchKey');
  const h2 = await s3.send(new HeadObjectCommand({ Bucket: B, Key: dst }));
  t.is(h2.ContentType, 'text/x-new');
});

test.serial('the primary restarts: same cluster map (a newer version on every node), buckets and objects intact', async (t) => {
  const before = await c.smap();
  await c.primary.restart();
  const after = await c.settle(3);
  t.is(after.uuid, before.uuid);
  t.true(Number(after.version) > Number(before.version));
  t.deepEqual(Object.keys(after.tmap).sort(), Object.keys(before.tmap).sort());
  t.deepEqual(Object.keys(after.pmap).sort(), Object.keys(before.pmap).sort());
  // Metadata changes work again from any proxy, and every node gets them.
  await s3Client(c.proxies[1]!.url).send(new CreateBucketCommand({ Bucket: 'after-restart' }));
  for (const n of [...c.proxies, ...c.targets]) t.is((await request(n.url, { method: 'HEAD', path: '/s3/after-restart' })).status, 200);
  const [key, body] = [...bodies][5]!;
  const g = await request(c.primary.url, { method: 'GET', path: `/s3/${B}/${key}` });
  t.deepEqual(g.body, body);
});
