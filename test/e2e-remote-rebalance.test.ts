// End to end, a remote s3:// bucket's cached objects across a join: they place by their own uname
// (aws/@#/bucket/object) at the gateway, so the rebalance must move them by it too. Objects cached on
// a one-target cluster, then a second target joins: every cached object ends on the target the
// gateway sends its GETs to, exactly once, and the next GETs are served from the cluster without
// asking the remote again. The remote is a tais node with access keys.
import test from 'ava';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCluster, objectsOnDisk, logNodesOnFailure, FAST_KEEPALIVE, type Cluster } from './helpers/cluster';
import { ROOT, request, random, sha256, s3Client, sleep, startNode, type AisNode } from './helpers/node';
import { digestOf, hrwSelect, objectUname } from '../src/cluster/hrw';

const AK = 'REMOTEKEY';
const SK = 'remote/Secret+2';
const B = 'rreb';
const KEYS = Array.from({ length: 40 }, (_, i) => `c/${String(i).padStart(3, '0')}`);
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');

let remote: AisNode | undefined;
let c: Cluster | undefined;
let s3: S3Client;
const sums = new Map<string, string>();

/** Object GETs the remote has served (its own counter). */
async function remoteGets(): Promise<number> {
  const m = (await request(remote!.url, { method: 'GET', path: '/metrics' })).body.toString();
  return Number(/^ais_target_get_count\S* (\d+)/m.exec(m)?.[1] ?? NaN);
}

async function getAll(): Promise<void> {
  for (const key of KEYS) {
    const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
    if (sha256(Buffer.from(await g.Body!.transformToByteArray())) !== sums.get(key)) throw new Error(`${key}: wrong bytes`);
  }
}

test.before(async () => {
  remote = await startNode({ name: 'rreb-remote', config: { auth: { s3: { keys: { [AK]: SK }, max_skew_s: 900 } } } });
  const direct = new S3Client({ endpoint: remote.s3url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SK }, maxAttempts: 1 });
  await direct.send(new CreateBucketCommand({ Bucket: B }));
  for (const key of KEYS) {
    const body = random(1000 + KEYS.indexOf(key));
    sums.set(key, sha256(body));
    await direct.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body }));
  }
  direct.destroy();
  c = await startCluster({ name: 'rreb', targets: 1, config: FAST_KEEPALIVE, env: { AWS_ACCESS_KEY_ID: AK, AWS_SECRET_ACCESS_KEY: SK, AWS_REGION: 'us-east-1' } });
  s3 = s3Client(c.primary.url);
  const made = await new Promise<string>((resolve) =>
    execFile(process.execPath, [AIS, 'bucket', 'create', `s3://${B}`, '--props', `extra.aws.endpoint=${remote!.s3url}`], { env: { ...process.env, AIS_ENDPOINT: c!.primary.url } }, (err, out, errOut) =>
      resolve(err ? errOut : ''),
    ),
  );
  if (made) throw new Error(made);
});

test.after.always(async () => {
  s3?.destroy();
  await c?.stop();
  await remote?.stop();
});

test.afterEach.always((t) => logNodesOnFailure(t, c));

/** Keys not cached exactly once on the target HRW gives their aws uname. */
async function misplaced(): Promise<string[]> {
  const smap = await c!.smap();
  const cands = Object.values(smap.tmap).map((s) => ({ digest: digestOf(s.daemon_id), port: Number(s.public_net.daemon_port) }));
  const disk = c!.targets.map((t) => ({ t, files: objectsOnDisk(t, B) }));
  return KEYS.filter((key) => {
    const port = hrwSelect(cands, objectUname('aws', B, key))!.port;
    const where = disk.filter((d) => d.files.has(key));
    return where.length !== 1 || where[0]!.t.port !== port || where[0]!.files.get(key)!.length !== 1;
  });
}

test.serial('a join moves cached s3:// objects to the target their GETs go to; GETs after it do not reach the remote', async (t) => {
  await getAll(); // cold: every object fetched once and cached on the only target
  const fetched = await remoteGets();
  t.true(fetched >= KEYS.length);
  t.deepEqual(await misplaced(), []);
  await c!.addTarget();
  await c!.settle(2);
  let left = await misplaced();
  for (let i = 0; i < 100 && left.length > 0; i++) {
    await sleep(200);
    left = await misplaced();
  }
  t.deepEqual(left, [], 'every cached object on its aws-uname owner, once');
  t.true(objectsOnDisk(c!.targets[1]!, B).size > 0, 'some objects moved to the new target');
  await getAll();
  t.is(await remoteGets(), fetched, 'served from the cluster: no new GET at the remote');
});
