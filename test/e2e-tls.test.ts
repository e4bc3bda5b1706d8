// End to end, a cluster (a proxy and two targets) serving HTTPS (aisnode --tls-cert/--tls-key, a
// certificate made here with openssl): clients reach every node over TLS only, the nodes reach each
// other over their plain intra-cluster ports, and the S3 SDK, the ais CLI and redirects all work; a
// client that does not trust the certificate is refused, and a restarted target rejoins.
import test from 'ava';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCluster, hrwPlacement, type Cluster } from './helpers/cluster';
import { ROOT, request, random, runScript, sha256, type ScriptRun, selfSignedCert, httpsS3Client } from './helpers/node';

const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
const AISLOADER = path.join(ROOT, 'dist', 'src', 'cmd', 'aisloader.js');

let c: Cluster;
let work: string;
let cert: string;
let s3: S3Client;
const objects = new Map<string, Buffer>();

const node = (script: string, env: Record<string, string>, args: string[]): Promise<ScriptRun> => runScript(script, args, { cwd: work, env: { AIS_ENDPOINT: c.primary.url, ...env } });
const ais = (env: Record<string, string>, ...args: string[]): Promise<ScriptRun> => node(AIS, env, args);

test.before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-tls-'));
  const pair = selfSignedCert(work);
  cert = pair.cert;
  c = await startCluster({ name: 'tls', targets: 2, tls: pair });
  s3 = httpsS3Client(c.primary.url, cert);
  for (let i = 0; i < 8; i++) objects.set(`obj-${i}`, random((1 << 20) + i * 4099));
});

test.after.always(async () => {
  s3?.destroy();
  await c?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test.serial('every node answers HTTPS on its public port and not plain HTTP; the Smap has https public and http intra addresses', async (t) => {
  for (const n of [c.primary, ...c.targets]) {
    t.true(n.url.startsWith('https://'));
    const h = await request(n.url, { method: 'GET', path: '/v1/health' });
    t.is(h.status, 200);
    await t.throwsAsync(request(n.url.replace('https:', 'http:'), { method: 'GET', path: '/v1/health', timeoutMs: 3000 }));
  }
  const smap = await c.smap();
  for (const s of Object.values(smap.tmap)) {
    const pub = s.public_net;
    const intra = (s as unknown as { intra_data_net: typeof pub }).intra_data_net;
    t.regex(pub.direct_url, /^https:\/\/127\.0\.0\.1:\d+$/);
    t.regex(intra.direct_url, /^http:\/\/127\.0\.0\.1:\d+$/);
    t.not(intra.daemon_port, pub.daemon_port);
  }
});

test.serial('a client that does not trust the certificate is refused', async (t) => {
  const err = await new Promise<Error>((resolve) => {
    https.get(`${c.primary.url}/v1/health`, (res) => resolve(new Error(`answered ${res.statusCode}`))).on('error', resolve);
  });
  t.regex(err.message, /self[- ]signed certificate/);
});

test.serial('S3 over HTTPS through the gateway: objects on both targets round-trip (the gateway forwards over the intra ports)', async (t) => {
  await s3.send(new CreateBucketCommand({ Bucket: 'tls' }));
  for (const [k, v] of objects) await s3.send(new PutObjectCommand({ Bucket: 'tls', Key: k, Body: v }));
  const smap = await c.smap();
  t.is(new Set([...objects.keys()].map((k) => hrwPlacement(smap, c.targets, 'tls', k).id)).size, 2);
  for (const [k, v] of objects) {
    const g = await s3.send(new GetObjectCommand({ Bucket: 'tls', Key: k }));
    t.is(sha256(Buffer.from(await g.Body!.transformToByteArray())), sha256(v), k);
  }
  const l = await s3.send(new ListObjectsV2Command({ Bucket: 'tls' }));
  t.deepEqual(l.Contents?.map((o) => o.Key), [...objects.keys()].sort());
});

test.serial('redirect mode: the 307 sends the client to the owner over https', async (t) => {
  const set = (v: boolean): Promise<unknown> => request(c.primary.url, { method: 'PUT', path: `/v1/cluster/set-config?proxy.s3_redirect=${v}` });
  await set(true);
  try {
    const smap = await c.smap();
    const owner = hrwPlacement(smap, c.targets, 'tls', 'obj-3');
    const r = await request(c.primary.url, { method: 'GET', path: '/s3/tls/obj-3' });
    t.is(r.status, 307);
    const loc = new URL(String(r.headers.location));
    t.is(loc.protocol, 'https:');
    t.is(Number(loc.port), owner.owner.port);
    const g = await request(loc.origin, { method: 'GET', path: loc.pathname + loc.search });
    t.is(g.status, 200);
    t.is(sha256(g.body), sha256(objects.get('obj-3')!));
  } finally {
    await set(false);
  }
});

test.serial('ais CLI over https: AIS_CLIENT_CA or AIS_SKIP_VERIFY_CRT; refused without either', async (t) => {
  fs.writeFileSync(path.join(work, 'up.bin'), objects.get('obj-1')!);
  let r = await ais({ AIS_CLIENT_CA: cert }, 'put', 'up.bin', 'ais://tls/cli/up.bin');
  t.is(r.code, 0, r.stderr);
  r = await ais({ AIS_SKIP_VERIFY_CRT: 'true' }, 'get', 'ais://tls/cli/up.bin', 'down.bin');
  t.is(r.code, 0, r.stderr);
  t.is(sha256(fs.readFileSync(path.join(work, 'down.bin'))), sha256(objects.get('obj-1')!));
  r = await ais({}, 'ls', 'ais://tls');
  t.is(r.code, 1);
  t.regex(r.stderr, /self[- ]signed certificate/);
});

test.serial('aisloader over https (S3 and native), trusting the CA; refused without it', async (t) => {
  for (const api of [['-s3'], []]) {
    const r = await node(AISLOADER, { AIS_CLIENT_CA: cert }, ['-endpoint', c.primary.url, '-bucket', 'ais://tls', ...api, '-pctput', '50', '-duration', '2s', '-numworkers', '4', '-minsize', '64KiB', '-maxsize', '256KiB', '-cleanup', '-json', '-quiet']);
    t.is(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { put: { count: number; errors: number }; get: { count: number; errors: number } };
    t.true(res.put.count > 0 && res.get.count > 0, r.stdout);
    t.is(res.put.errors + res.get.errors, 0, r.stdout);
  }
  const bad = await node(AISLOADER, {}, ['-endpoint', c.primary.url, '-bucket', 'ais://tls', '-pctput', '100', '-duration', '1s', '-numworkers', '1', '-json', '-quiet']);
  t.not(bad.code, 0);
  t.regex(bad.stderr + bad.stdout, /self[- ]signed certificate/);
});

test.serial('a restarted target rejoins over TLS and serves its objects', async (t) => {
  const before = await c.smap();
  await c.targets[0]!.restart();
  await c.settle(2);
  const after = await c.smap();
  t.is(Object.keys(after.tmap).length, Object.keys(before.tmap).length);
  for (const [k, v] of objects) {
    const g = await s3.send(new GetObjectCommand({ Bucket: 'tls', Key: k }));
    t.is(sha256(Buffer.from(await g.Body!.transformToByteArray())), sha256(v), k);
  }
  await s3.send(new DeleteObjectCommand({ Bucket: 'tls', Key: 'obj-0' }));
  t.is((await request(c.primary.url, { method: 'GET', path: '/v1/objects/tls/obj-0' })).status, 404);
});
