// End to end, TLS between nodes (aisnode --intra-tls with --tls-cert/--tls-key, AIS_INTRA_TLS=true): a
// proxy and two targets whose intra-cluster ports speak HTTPS only. Everything that crosses between
// nodes — joins and metadata, the gateway's forwards, listings, a copy from another target, a job's
// PUTs to owners, a rebalance when a third target joins — works over TLS, and a plain-HTTP client gets
// nothing from an intra-cluster port.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCluster, hrwPlacement, misplacedObjects, waitRebalanced, logNodesOnFailure, type Cluster } from './helpers/cluster';
import { ROOT, request, random, runScript, sha256, selfSignedCert, httpsS3Client } from './helpers/node';

const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
const B = 'itls';

let c: Cluster;
let work: string;
let cert: string;
let s3: S3Client;
const objects = new Map<string, Buffer>();

async function getBytes(bucket: string, key: string): Promise<Buffer> {
  const g = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await g.Body!.transformToByteArray());
}

test.before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-itls-'));
  const pair = selfSignedCert(work);
  cert = pair.cert;
  c = await startCluster({ name: 'itls', targets: 2, tls: pair, env: { AIS_INTRA_TLS: 'true' } });
  s3 = httpsS3Client(c.primary.url, cert);
  for (let i = 0; i < 16; i++) objects.set(`obj-${i}`, random((256 << 10) + i * 4099));
  objects.set('big', random(24 << 20));
});

test.after.always(async () => {
  s3?.destroy();
  await c?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test.afterEach.always((t) => logNodesOnFailure(t, c));

test.serial('the Smap has https intra-cluster addresses; an intra port answers HTTPS and nothing to plain HTTP', async (t) => {
  const smap = await c.smap();
  for (const s of [...Object.values(smap.tmap), ...Object.values(smap.pmap)]) {
    const intra = (s as unknown as { intra_data_net: { direct_url: string } }).intra_data_net;
    t.regex(intra.direct_url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ok = await request(intra.direct_url, { method: 'GET', path: '/v1/health' });
    t.is(ok.status, 200);
    await t.throwsAsync(request(intra.direct_url.replace('https:', 'http:'), { method: 'GET', path: '/v1/health', timeoutMs: 3000 }));
  }
});

test.serial('S3 through the gateway (forwarded over TLS), listing, a copy whose source is on the other target', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  for (const [k, v] of objects) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: v }));
  const smap = await c.smap();
  t.is(new Set([...objects.keys()].map((k) => hrwPlacement(smap, c.targets, B, k).id)).size, 2);
  for (const [k, v] of objects) t.is(sha256(await getBytes(B, k)), sha256(v), k);
  const l = await s3.send(new ListObjectsV2Command({ Bucket: B }));
  t.deepEqual(l.Contents?.map((o) => o.Key), [...objects.keys()].sort());
  // Destinations on the target that does not hold the source: its owner reads the source over TLS.
  let crossed = 0;
  for (let i = 0; i < 16; i++) {
    const dst = `copy-${i}`;
    const src = `obj-${i}`;
    if (hrwPlacement(smap, c.targets, B, dst).id === hrwPlacement(smap, c.targets, B, src).id) continue;
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: dst, CopySource: `${B}/${src}` }));
    t.is(sha256(await getBytes(B, dst)), sha256(objects.get(src)!));
    crossed++;
  }
  t.true(crossed > 0);
});

test.serial('a copy job (PUTs to the owners) and a rebalance when a third target joins, all over TLS', async (t) => {
  const cp = await runScript(AIS, ['cp', `ais://${B}`, 'ais://itls2', '--wait'], { env: { AIS_ENDPOINT: c.primary.url, AIS_CLIENT_CA: cert } });
  t.is(cp.code, 0, cp.stderr);
  for (const [k, v] of objects) t.is(sha256(await getBytes('itls2', k)), sha256(v), k);
  await c.addTarget();
  await waitRebalanced(c);
  t.deepEqual(await misplacedObjects(c, B, objects.keys()), []);
  for (const [k, v] of objects) t.is(sha256(await getBytes(B, k)), sha256(v), k);
});
