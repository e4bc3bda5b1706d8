// End to end, a real aisnode with io.sendfile on: large GETs hand their body to a native thread that
// sends it with sendfile(2) on the socket under uWS (native/sendfile.cc, target/get.ts). The bytes
// arrive whole and in order, the connection stays usable for the next request, a corrupted or cut
// object never completes as a 200, clients that leave do not hurt the node, and more large GETs than
// native threads fall back to the uWS path.
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startNode, s3Client, request, objPath, sha256, random, type AisNode } from './helpers/node';
import { getStreamed, flipByte, objectFile, leaveAfterFirstBytes } from './helpers/disk';

const MiB = 1 << 20;
let node: AisNode;
let s3: S3Client;
const big = random(20 * MiB + 12_345);

test.before(async () => {
  node = await startNode({ name: 'sendfile', config: { io: { sendfile: true } } });
  s3 = s3Client(node.url);
  for (const b of ['sf-ok', 'sf-bad', 'sf-trunc']) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await s3.send(new PutObjectCommand({ Bucket: 'sf-ok', Key: 'big', Body: big }));
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

/** ais_target_<name> from the node's /metrics. */
async function counter(name: string): Promise<number> {
  const text = (await request(node.url, { method: 'GET', path: '/metrics' })).body.toString();
  const m = new RegExp(`^ais_target_${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
}

/** Sequential GETs of `paths` on one kept-alive connection: status, sha256 and whether the socket was reused. */
async function onOneConnection(paths: string[]): Promise<Array<[number, string, boolean]>> {
  const u = new URL(node.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const out: Array<[number, string, boolean]> = [];
  try {
    for (const p of paths) {
      out.push(
        await new Promise((resolve, reject) => {
          const req = http.get({ host: u.hostname, port: u.port, path: p, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve([res.statusCode ?? 0, sha256(Buffer.concat(chunks)), req.reusedSocket]));
            res.on('error', reject);
          });
          req.on('error', reject);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return out;
}

test.serial('a large GET goes out by sendfile, whole, and the connection carries the next requests', async (t) => {
  const before = await counter('get_sendfile_count');
  const small = random(1000);
  await s3.send(new PutObjectCommand({ Bucket: 'sf-ok', Key: 'small', Body: small }));
  const got = await onOneConnection([objPath('sf-ok', 'big'), objPath('sf-ok', 'small'), objPath('sf-ok', 'big')]);
  t.deepEqual(got, [
    [200, sha256(big), false],
    [200, sha256(small), true],
    [200, sha256(big), true],
  ]);
  t.is(await counter('get_sendfile_count'), before + 2);
  // Through the SDK too, and a large range (not verified: no hashing on the native side).
  const out = await s3.send(new GetObjectCommand({ Bucket: 'sf-ok', Key: 'big' }));
  t.is(out.ContentLength, big.length);
  t.is(sha256(Buffer.from(await out.Body!.transformToByteArray())), sha256(big));
  const ranged = await getStreamed(node.url, objPath('sf-ok', 'big'), { range: `bytes=1000-${18 * MiB}` });
  t.deepEqual([ranged.status, ranged.sha256], [206, sha256(big.subarray(1000, 18 * MiB + 1))]);
  t.is(await counter('get_sendfile_count'), before + 4);
});

test.serial('more large GETs at once than native senders: every one completes intact', async (t) => {
  // 16 native sends at most per process; the rest take the uWS path from their second piece on.
  const all = await Promise.all(Array.from({ length: 20 }, () => getStreamed(node.url, objPath('sf-ok', 'big'))));
  for (const r of all) t.deepEqual([r.status, r.length, r.sha256, r.error], [200, big.length, sha256(big), undefined]);
});

test.serial('a flipped byte (middle or last bytes) or a truncated file: never a complete 200; the node keeps serving', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: 'sf-bad', Key: 'mid', Body: big }));
  await s3.send(new PutObjectCommand({ Bucket: 'sf-bad', Key: 'end', Body: big }));
  await s3.send(new PutObjectCommand({ Bucket: 'sf-trunc', Key: 'cut', Body: big }));
  const errs = await counter('err_cksum_count');
  flipByte(objectFile(node, 'sf-bad', 'mid'), 10 * MiB + 5);
  // In the tail that uWS writes after the native thread: the digest covers it.
  flipByte(objectFile(node, 'sf-bad', 'end'), big.length - 100);
  fs.truncateSync(objectFile(node, 'sf-trunc', 'cut'), 9 * MiB + 1);
  for (const [b, k] of [['sf-bad', 'mid'], ['sf-bad', 'end'], ['sf-trunc', 'cut']] as const) {
    const r = await getStreamed(node.url, objPath(b, k));
    t.false(r.status === 200 && r.error === undefined && r.length === big.length, `${k}: ${r.status} ${r.length} ${r.error}`);
    t.not(r.sha256, sha256(big));
    t.true(r.length < big.length, `${k}: ${r.length} bytes`);
  }
  t.is(await counter('err_cksum_count'), errs + 3);
  // Repaired, it is served whole again; the good object still is.
  flipByte(objectFile(node, 'sf-bad', 'mid'), 10 * MiB + 5);
  const again = await getStreamed(node.url, objPath('sf-bad', 'mid'));
  t.deepEqual([again.status, again.sha256, again.error], [200, sha256(big), undefined]);
});

test.serial('clients that leave midway: the native sends end and the object is served whole afterwards', async (t) => {
  const left = await Promise.all(Array.from({ length: 6 }, () => leaveAfterFirstBytes(node.url, objPath('sf-ok', 'big'))));
  t.deepEqual(left, [200, 200, 200, 200, 200, 200]);
  const after = await Promise.all(Array.from({ length: 3 }, () => getStreamed(node.url, objPath('sf-ok', 'big'))));
  for (const r of after) t.deepEqual([r.status, r.length, r.sha256], [200, big.length, sha256(big)]);
});

test.serial('io.sendfile set off at run time: large GETs stay on uWS (all HTTP threads), and on again', async (t) => {
  t.is((await request(node.url, { method: 'PUT', path: '/v1/cluster/set-config?io.sendfile=false' })).status, 200);
  const before = await counter('get_sendfile_count');
  const off = await Promise.all(Array.from({ length: 4 }, () => getStreamed(node.url, objPath('sf-ok', 'big'))));
  for (const r of off) t.deepEqual([r.status, r.sha256], [200, sha256(big)]);
  t.is(await counter('get_sendfile_count'), before);
  t.is((await request(node.url, { method: 'PUT', path: '/v1/cluster/set-config?io.sendfile=true' })).status, 200);
  const on = await getStreamed(node.url, objPath('sf-ok', 'big'));
  t.deepEqual([on.status, on.sha256], [200, sha256(big)]);
  t.is(await counter('get_sendfile_count'), before + 1);
});
