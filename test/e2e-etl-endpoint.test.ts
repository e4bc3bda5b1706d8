// End to end, a cluster (a proxy and two targets) started without AIS_ETL_COMMANDS: an ETL spec with a
// command (code to run on the targets) is refused with 403 and leaves nothing behind, while a
// transformer the user runs (`endpoint`) is shared by both targets and transforms objects of both.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startCluster, hrwPlacement, type Cluster } from './helpers/cluster';
import { ROOT, freePort, request, s3Client, sleep } from './helpers/node';

const EXAMPLE = path.join(ROOT, 'dist', 'src', 'etl', 'example-transformer.js');

let c: Cluster;
let s3: S3Client;
let transformer: ChildProcess;
let port: number;
// Enough keys that both targets own some whatever their random IDs (8 missed one target 1 time in 128).
const keys = Array.from({ length: 32 }, (_, i) => `k${i}.txt`);

const json = (method: string, p: string, body?: unknown) =>
  request(c.primary.url, { method, path: p, ...(body !== undefined ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) } : {}) });

test.before(async () => {
  c = await startCluster({ name: 'etlep', targets: 2 });
  s3 = s3Client(c.primary.url);
  await json('POST', '/v1/buckets/plain', { action: 'create-bck' });
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: k, Body: `text of ${k}` }));
  port = await freePort();
  transformer = spawn(process.execPath, [EXAMPLE, 'upper', '--port', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    const ok = await request(`http://127.0.0.1:${port}`, { method: 'GET', path: '/health', timeoutMs: 500 }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
});

test.after.always(async () => {
  transformer?.kill();
  s3?.destroy();
  await c?.stop();
});

test.serial('a spec with a command is refused (403) by targets that do not start commands; nothing is left', async (t) => {
  const r = await json('PUT', '/v1/etl', { name: 'not-allowed', runtime: { command: ['sh', '-c', 'touch /tmp/tais-should-not-exist'] } });
  t.is(r.status, 403);
  t.regex(r.body.toString(), /does not start transformer commands/);
  t.is((await json('GET', '/v1/etl/not-allowed')).status, 404);
  t.deepEqual(JSON.parse((await json('GET', '/v1/etl')).body.toString()), []);
  t.false(fs.existsSync('/tmp/tais-should-not-exist'));
});

test.serial('an endpoint transformer (run by the user) serves both targets', async (t) => {
  const r = await json('PUT', '/v1/etl', { name: 'shared-upper', communication: 'ws://', endpoint: `http://127.0.0.1:${port}` });
  t.is(r.status, 200, r.body.toString());
  const info = JSON.parse((await json('GET', '/v1/etl/shared-upper')).body.toString()) as { targets: Record<string, { stage: string; pid?: number }> };
  t.deepEqual(Object.values(info.targets).map((i) => [i.stage, i.pid]), [['Running', undefined], ['Running', undefined]]);
  const smap = await c.smap();
  t.is(new Set(keys.map((k) => hrwPlacement(smap, c.targets, 'plain', k).id)).size, 2);
  for (const k of keys) {
    const g = await request(c.primary.url, { method: 'GET', path: `/v1/objects/plain/${k}?etl_name=shared-upper` });
    t.is(g.status, 200);
    t.is(g.body.toString(), `TEXT OF ${k.toUpperCase()}`);
  }
  t.is((await json('DELETE', '/v1/etl/shared-upper')).status, 200);
  // The user's transformer is theirs: removing the ETL does not stop it.
  t.is((await request(`http://127.0.0.1:${port}`, { method: 'GET', path: '/health' })).status, 200);
});
