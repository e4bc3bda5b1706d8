// End to end, a cluster (a proxy and two targets) with auth.enabled: JWT bearer tokens on the native API
// and as the S3 session token (the AWS SDK, unmodified, signs X-Amz-Security-Token with the request),
// what each kind of token may do, the errors of a missing, expired, forged or insufficient token, and
// the tools: `ais auth token --save` then `ais` commands, and aisloader -tokenfile. Requests the
// gateway forwards to the owner target and the nodes' own calls (Smap, listing fan-out) keep working.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startCluster, type Cluster } from './helpers/cluster';
import { ROOT, request, random, xmlCode, md5 } from './helpers/node';
import { signToken } from '../src/authn/token';
import { ACCESS_RO, ACCESS_RW } from '../src/authn/access';

const SECRET = 'e2e-authn-secret';
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
const AISLOADER = path.join(ROOT, 'dist', 'src', 'cmd', 'aisloader.js');
const hour = (): number => Math.floor(Date.now() / 1000) + 3600;

const admin = signToken({ username: 'root', admin: true, exp: hour() }, SECRET);
const reader = signToken({ username: 'reader', exp: hour(), buckets: [{ bck: { name: 'data', provider: 'ais' }, perm: String(ACCESS_RO) }] }, SECRET);
const writer = signToken({ username: 'writer', exp: hour(), clusters: [{ id: '', perm: String(ACCESS_RW) }] }, SECRET);
const expired = signToken({ username: 'late', admin: true, exp: Math.floor(Date.now() / 1000) - 10 }, SECRET);
const forged = signToken({ username: 'eve', admin: true, exp: hour() }, 'not-the-secret');

let c: Cluster;
let work: string;
const body = random(3 << 20);

function s3(token?: string): S3Client {
  return new S3Client({
    endpoint: `${c.primary.url}/s3`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'any', secretAccessKey: 'any', ...(token ? { sessionToken: token } : {}) },
    maxAttempts: 1,
  });
}

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

async function s3Code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { Code?: string; name: string }).Code ?? (err as Error).name;
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: work, env: { ...process.env, AIS_ENDPOINT: c.primary.url, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test.before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-authn-'));
  c = await startCluster({ name: 'authn', targets: 2, config: { auth: { enabled: true, secret: SECRET } }, token: admin });
  const r = await request(c.primary.url, { method: 'POST', path: '/v1/buckets/data', headers: { ...bearer(admin), 'Content-Type': 'application/json' }, body: '{"action":"create-bck"}' });
  if (r.status !== 200) throw new Error(`create bucket: ${r.status} ${r.body.toString()}`);
  const s = s3(admin);
  for (let i = 0; i < 6; i++) await s.send(new PutObjectCommand({ Bucket: 'data', Key: `obj-${i}`, Body: body }));
  s.destroy();
});

test.after.always(async () => {
  await c?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('native API: no token is 401, a valid token works through the gateway to every target', async (t) => {
  const none = await request(c.primary.url, { method: 'GET', path: '/v1/objects/data/obj-0' });
  t.is(none.status, 401);
  t.regex(JSON.parse(none.body.toString()).message, /token required/);
  t.is((await request(c.primary.url, { method: 'GET', path: '/v1/buckets/' })).status, 401);
  t.is((await request(c.primary.url, { method: 'GET', path: '/v1/objects/no-such-bucket/x' })).status, 401, 'not 404: no token, no answer');
  t.is((await request(c.primary.url, { method: 'GET', path: '/v1/buckets/no-such-bucket' })).status, 401);
  t.is(xmlCode((await request(c.primary.url, { method: 'GET', path: '/s3/no-such-bucket/x' })).body), 'AccessDenied');
  t.is((await request(c.primary.url, { method: 'GET', path: '/v1/cluster?what=smap' })).status, 401);
  // Objects sit on both targets: each GET is forwarded by the gateway to the owner, which checks again.
  for (let i = 0; i < 6; i++) {
    const r = await request(c.primary.url, { method: 'GET', path: `/v1/objects/data/obj-${i}`, headers: bearer(reader) });
    t.is(r.status, 200);
    t.is(md5(r.body), md5(body));
  }
  // A target's own port asks for a token too.
  t.is((await request(c.targets[0]!.url, { method: 'GET', path: '/v1/objects/data/obj-0' })).status, 401);
  const health = await request(c.primary.url, { method: 'GET', path: '/v1/health' });
  t.is(health.status, 200, 'health stays open (orchestrators probe it)');
});

test('native API: expired and forged tokens are 401, an insufficient one 403, and nothing changes', async (t) => {
  const exp = await request(c.primary.url, { method: 'GET', path: '/v1/objects/data/obj-0', headers: bearer(expired) });
  t.is(exp.status, 401);
  t.regex(JSON.parse(exp.body.toString()).message, /expired/);
  const bad = await request(c.primary.url, { method: 'GET', path: '/v1/objects/data/obj-0', headers: bearer(forged) });
  t.is(bad.status, 401);
  t.regex(JSON.parse(bad.body.toString()).message, /signature/);
  const put = await request(c.primary.url, { method: 'PUT', path: '/v1/objects/data/new-by-reader', headers: bearer(reader), body: 'x' });
  t.is(put.status, 403);
  t.regex(JSON.parse(put.body.toString()).message, /reader.*PUT.*ais:\/\/data/);
  t.is((await request(c.primary.url, { method: 'HEAD', path: '/v1/objects/data/new-by-reader', headers: bearer(admin) })).status, 404);
  // Metadata writes go to the primary, which reads the action: a reader cannot destroy the bucket.
  const del = await request(c.primary.url, { method: 'DELETE', path: '/v1/buckets/data', headers: { ...bearer(reader), 'Content-Type': 'application/json', 'Content-Length': 24 }, body: '{"action":"destroy-bck"}' });
  t.is(del.status, 403);
  const mk = await request(c.primary.url, { method: 'POST', path: '/v1/buckets/made-by-writer', headers: { ...bearer(writer), 'Content-Type': 'application/json' }, body: '{"action":"create-bck"}' });
  t.is(mk.status, 403, 'rw does not include creating buckets');
  const cfg = await request(c.primary.url, { method: 'PUT', path: '/v1/cluster/set-config?checksum.type=md5', headers: bearer(writer) });
  t.is(cfg.status, 403, 'config changes need admin');
  const list = await request(c.primary.url, { method: 'GET', path: '/v1/buckets/', headers: bearer(admin) });
  t.is(list.status, 200);
  t.deepEqual(
    (JSON.parse(list.body.toString()) as { name: string }[]).map((b) => b.name),
    ['data'],
  );
});

test('S3: the SDK with the token as its session token; S3 error codes without one', async (t) => {
  const w = s3(writer);
  await w.send(new PutObjectCommand({ Bucket: 'data', Key: 'sdk/one', Body: body }));
  const got = await w.send(new GetObjectCommand({ Bucket: 'data', Key: 'sdk/one' }));
  t.is(md5(Buffer.from(await got.Body!.transformToByteArray())), md5(body));
  const listed = await w.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'sdk/' }));
  t.deepEqual(listed.Contents?.map((o) => o.Key), ['sdk/one']);
  t.is(await s3Code(w.send(new CreateBucketCommand({ Bucket: 'writers-bucket' }))), 'AccessDenied');
  w.destroy();

  const anon = s3();
  t.is(await s3Code(anon.send(new GetObjectCommand({ Bucket: 'data', Key: 'obj-0' }))), 'AccessDenied');
  anon.destroy();
  const late = s3(expired);
  t.is(await s3Code(late.send(new GetObjectCommand({ Bucket: 'data', Key: 'obj-0' }))), 'ExpiredToken');
  late.destroy();
  const eve = s3(forged);
  t.is(await s3Code(eve.send(new PutObjectCommand({ Bucket: 'data', Key: 'eve', Body: 'x' }))), 'InvalidToken');
  eve.destroy();
  const r = s3(reader);
  t.is(await s3Code(r.send(new PutObjectCommand({ Bucket: 'data', Key: 'by-reader', Body: 'x' }))), 'AccessDenied');
  t.is(await s3Code(r.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'obj-0' }))), 'AccessDenied');
  const g = await r.send(new GetObjectCommand({ Bucket: 'data', Key: 'obj-1' }));
  t.is(md5(Buffer.from(await g.Body!.transformToByteArray())), md5(body));
  r.destroy();
  // Raw: Bearer works on /s3 too, and the error body is S3's XML.
  const raw = await request(c.primary.url, { method: 'GET', path: '/s3/data/obj-2' });
  t.is(raw.status, 403);
  t.is(xmlCode(raw.body), 'AccessDenied');
  t.is((await request(c.primary.url, { method: 'GET', path: '/s3/data/obj-2', headers: bearer(reader) })).status, 200);
  t.is((await request(c.primary.url, { method: 'HEAD', path: '/s3/data/by-reader', headers: bearer(admin) })).status, 404, "the reader's PUT left nothing");
});

test('S3: a presigned URL made with session credentials carries the token in its query', async (t) => {
  const r = s3(reader);
  const url = await getSignedUrl(r, new GetObjectCommand({ Bucket: 'data', Key: 'obj-3' }), { expiresIn: 300 });
  r.destroy();
  t.regex(url, /X-Amz-Security-Token=/);
  const u = new URL(url);
  const got = await request(c.primary.url, { method: 'GET', path: u.pathname + u.search });
  t.is(got.status, 200);
  t.is(md5(got.body), md5(body));
  const stripped = u.search.replace(/&?X-Amz-Security-Token=[^&]*/, '');
  t.is((await request(c.primary.url, { method: 'GET', path: u.pathname + stripped })).status, 403);
});

test('ais auth token --save, then ais commands carry the token; aisloader -tokenfile', async (t) => {
  const file = path.join(work, 'auth.token');
  const env = { AIS_AUTHN_TOKEN_FILE: file };
  const noSecret = await run(AIS, ['auth', 'token', 'alice', '--admin'], env);
  t.is(noSecret.code, 2);
  t.regex(noSecret.stderr, /AIS_AUTHN_SECRET/);
  const before = await run(AIS, ['ls'], env);
  t.is(before.code, 1, before.stdout + before.stderr);
  const saved = await run(AIS, ['auth', 'token', 'alice', '--cluster', 'rw', '--expires', '1h', '--save'], { ...env, AIS_AUTHN_SECRET: SECRET });
  t.is(saved.code, 0, saved.stderr);
  t.regex(saved.stdout, /saved to/);
  t.is((fs.statSync(file).mode & 0o777).toString(8), '600');
  const ls = await run(AIS, ['ls', 'ais://data'], env);
  t.is(ls.code, 0, ls.stderr);
  t.regex(ls.stdout, /obj-5/);
  fs.writeFileSync(path.join(work, 'up.bin'), body);
  const put = await run(AIS, ['put', 'up.bin', 'ais://data/from-cli'], env);
  t.is(put.code, 0, put.stderr);
  const ro = await run(AIS, ['auth', 'token', 'bob', '--secret', SECRET, '--bucket', 'data:ro'], {});
  t.is(ro.code, 0, ro.stderr);
  const denied = await run(AIS, ['put', 'up.bin', 'ais://data/from-bob'], { AIS_AUTHN_TOKEN: ro.stdout.trim() });
  t.is(denied.code, 1);
  t.regex(denied.stderr, /bob/);

  const load = await run(AISLOADER, ['-endpoint', c.primary.url, '-bucket', 'ais://data', '-tokenfile', file, '-pctput', '50', '-duration', '2s', '-numworkers', '2', '-minsize', '64KiB', '-maxsize', '64KiB', '-cleanup', '-json', '-quiet'], {});
  t.is(load.code, 0, load.stderr);
  const res = JSON.parse(load.stdout) as { put: { count: number; errors: number }; get: { count: number; errors: number } };
  t.true(res.put.count > 0 && res.get.count > 0, load.stdout);
  t.is(res.put.errors + res.get.errors, 0);
  const noToken = await run(AISLOADER, ['-endpoint', c.primary.url, '-bucket', 'ais://data', '-pctput', '100', '-duration', '1s', '-numworkers', '1', '-json', '-quiet'], {});
  t.not(noToken.code, 0, 'without a token the loader reports the 401');
});
