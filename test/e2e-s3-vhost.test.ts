// End to end: virtual-hosted-style addressing (cluster config s3.virtual_host_domain). A node with
// access keys and the domain "tais.test": the SDK at its defaults (forcePathStyle off, so it sends
// "Host: <bucket>.tais.test:PORT", with the name resolved to loopback by the agent) signs and the node
// verifies; the bucket comes from the Host at the root and under /s3; path style keeps working; a
// cluster's gateway forwards and redirects virtual-hosted requests to the owner.
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startNode, request, xmlCode, sha256, random, type AisNode } from './helpers/node';
import { startCluster, type Cluster } from './helpers/cluster';
import { signRequest, formatAmzDate, EMPTY_SHA256 } from '../src/s3/sigv4';
import { virtualHostBucket } from '../src/s3/vhost';

const DOMAIN = 'tais.test';
const AK = 'VHOSTKEY';
const SK = 'vhost-secret';
let node: AisNode;
let c: Cluster;

/** Every name resolves to loopback: "<bucket>.tais.test" needs no DNS. */
const loopback = (): http.Agent =>
  new http.Agent({
    keepAlive: true,
    lookup: ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as http.AgentOptions['lookup'],
  });

function vhostClient(port: number, path = '', creds = { accessKeyId: AK, secretAccessKey: SK }): S3Client {
  return new S3Client({ endpoint: `http://${DOMAIN}:${port}${path}`, region: 'us-east-1', credentials: creds, maxAttempts: 1, requestHandler: { httpAgent: loopback() } });
}

test.before(async () => {
  [node, c] = await Promise.all([
    startNode({ name: 'vhost', config: { s3: { virtual_host_domain: DOMAIN }, auth: { s3: { keys: { [AK]: SK } } }, io: { fsync_put: false } } }),
    startCluster({ targets: 2, name: 'vhostclu', config: { s3: { virtual_host_domain: DOMAIN } } }),
  ]);
});

test.after.always(async () => {
  await Promise.all([node?.stop(), c?.stop()]);
});

test('virtualHostBucket: bucket from "<bucket>.<domain>[:port]", anything else path-style', (t) => {
  t.is(virtualHostBucket('tais.test', 'photos.tais.test:8080'), 'photos');
  t.is(virtualHostBucket('tais.test', 'my.dotted.bucket.tais.test'), 'my.dotted.bucket');
  t.is(virtualHostBucket('tais.test', 'Photos.TAIS.test.'), 'photos');
  t.is(virtualHostBucket('tais.test.', 'b.tais.test:1'), 'b');
  t.is(virtualHostBucket('tais.test', 'tais.test:8080'), undefined);
  t.is(virtualHostBucket('tais.test', 'xtais.test'), undefined);
  t.is(virtualHostBucket('tais.test', '127.0.0.1:8080'), undefined);
  t.is(virtualHostBucket('tais.test', '[::1]:8080'), undefined);
  t.is(virtualHostBucket('tais.test', 'bad_name%2F.tais.test'), undefined);
  t.is(virtualHostBucket('', 'b.tais.test'), undefined);
  t.is(virtualHostBucket('tais.test', undefined), undefined);
});

test('SDK in virtual-hosted style, signed (auth on): bucket, objects, listing, multipart — at the root and under /s3', async (t) => {
  for (const [bucket, prefix] of [['vh-root', ''], ['vh-s3', '/s3']] as const) {
    const s3 = vhostClient(node.port, prefix);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const body = random(3 * (1 << 20) + 11);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/a b+c.bin', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/a b+c.bin' }));
    t.is(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(body), prefix);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    t.deepEqual(list.Contents?.map((o) => o.Key), ['dir/a b+c.bin'], prefix);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu' }));
    const p = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId, PartNumber: 1, Body: 'one part' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
    t.is((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mpu' }))).ContentLength, 8, prefix);
    // The same object path-style (Host = the IP), signed by hand.
    const path = `/s3/${bucket}/mpu`;
    const host = `127.0.0.1:${node.port}`;
    const amzDate = formatAmzDate(Date.now());
    const headers = { host, 'x-amz-date': amzDate, 'x-amz-content-sha256': EMPTY_SHA256 };
    const signed = signRequest({ method: 'GET', path, headers, payloadHash: EMPTY_SHA256, accessKey: AK, secret: SK, region: 'us-east-1', amzDate });
    const r = await request(node.url, { method: 'GET', path, headers: { ...headers, authorization: signed.authorization } });
    t.is(r.body.toString(), 'one part', prefix);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'mpu' }));
    s3.destroy();
  }
  // A wrong secret is still refused in virtual-hosted style.
  const bad = vhostClient(node.port, '', { accessKeyId: AK, secretAccessKey: 'wrong' });
  const err = await t.throwsAsync(bad.send(new GetObjectCommand({ Bucket: 'vh-root', Key: 'dir/a b+c.bin' })));
  t.is((err as { name?: string }).name, 'SignatureDoesNotMatch');
  bad.destroy();
});

test('unsigned raw requests (no auth configured): Host picks the bucket; unknown bucket in the Host is NoSuchBucket', async (t) => {
  const host = (b: string): Record<string, string> => ({ host: `${b}.${DOMAIN}:${c.primary.port}` });
  t.is((await request(c.primary.url, { method: 'PUT', path: '/', headers: host('vh-clu') })).status, 200);
  const r = await request(c.primary.url, { method: 'PUT', path: '/k', headers: host('vh-clu'), body: 'hello' });
  t.is(r.status, 200);
  t.is((await request(c.primary.url, { method: 'GET', path: '/s3/vh-clu/k' })).body.toString(), 'hello');
  const miss = await request(c.primary.url, { method: 'GET', path: '/k', headers: host('no-such-bucket') });
  t.is(miss.status, 404);
  t.is(xmlCode(miss.body), 'NoSuchBucket');
  // Without a bucket in the Host, the root is not S3 (S3-API-via-Root is off).
  t.is((await request(c.primary.url, { method: 'GET', path: '/k' })).status, 404);
});

test.serial('cluster: the gateway forwards virtual-hosted requests to each owner; in redirect mode it sends the client path-style to the owner', async (t) => {
  const s3 = vhostClient(c.primary.port, '/s3', { accessKeyId: 'any', secretAccessKey: 'any' });
  await s3.send(new CreateBucketCommand({ Bucket: 'vh-fwd' }));
  const bodies = Array.from({ length: 12 }, (_, i) => random(1000 + i * 5000));
  await Promise.all(bodies.map((b, i) => s3.send(new PutObjectCommand({ Bucket: 'vh-fwd', Key: `o${i}`, Body: b }))));
  for (let i = 0; i < bodies.length; i++) {
    const g = await s3.send(new GetObjectCommand({ Bucket: 'vh-fwd', Key: `o${i}` }));
    t.is(sha256(Buffer.from(await g.Body!.transformToByteArray())), sha256(bodies[i]!));
  }
  // Each target holds some: the objects went to their owners (12 objects on one target of two: 2^-11).
  const held = c.targets.map((tg) => bodies.filter((_, i) => tg.dirs.mountpaths.some((mp) => fs.existsSync(path.join(mp, '@ais', 'vh-fwd', '%ob', `o${i}`)))).length);
  t.true(held.every((n) => n > 0), `per target: ${held.join(', ')}`);
  t.is(held.reduce((a, b) => a + b, 0), bodies.length);
  const set = await request(c.primary.url, { method: 'PUT', path: '/v1/cluster', body: JSON.stringify({ action: 'set-config', value: { proxy: { s3_redirect: true } } }) });
  t.is(set.status, 200, set.body.toString());
  try {
    for (let i = 0; i < 4; i++) {
      const r = await request(c.primary.url, { method: 'GET', path: `/s3/o${i}`, headers: { host: `vh-fwd.${DOMAIN}:${c.primary.port}` } });
      t.is(r.status, 307);
      const loc = new URL(r.headers['location']!);
      t.regex(loc.pathname, new RegExp(`^/s3/vh-fwd/o${i}$`));
      const follow = await request(loc.origin, { method: 'GET', path: loc.pathname + loc.search });
      t.is(follow.status, 200);
      t.is(sha256(follow.body), sha256(bodies[i]!));
    }
  } finally {
    await request(c.primary.url, { method: 'PUT', path: '/v1/cluster', body: JSON.stringify({ action: 'set-config', value: { proxy: { s3_redirect: false } } }) });
  }
  s3.destroy();
});
