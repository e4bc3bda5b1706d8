// End to end, a cluster (a proxy and two targets): AIStore's set-custom (PATCH /v1/objects/B/O and `ais
// object set-custom`) adds to an object's custom metadata or replaces it, through the gateway to the
// owner; S3 HEAD and the native HEAD show it, the bytes and checksum stay. Bad input changes nothing.
import test from 'ava';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startClusterRig, stopClusterRig, type Cluster, type ClusterRig } from './helpers/cluster';
import { request, random, sha256, type ScriptRun } from './helpers/node';

const B = 'cmd';

let rig: ClusterRig | undefined;
let c: Cluster;
let s3: S3Client;

const ais = (...args: string[]): Promise<ScriptRun> => rig!.ais(...args);
const patch = (key: string, body: string, query = '') =>
  request(c.primary.url, { method: 'PATCH', path: `/v1/objects/${B}/${encodeURIComponent(key)}${query}`, headers: { 'Content-Type': 'application/json' }, body });
const meta = async (key: string): Promise<Record<string, string> | undefined> => (await s3.send(new HeadObjectCommand({ Bucket: B, Key: key }))).Metadata;

test.before(async () => {
  rig = await startClusterRig('custom', 2, [B]);
  ({ c, s3 } = rig);
});

test.after.always(() => stopClusterRig(rig));

test.serial('set-custom adds keys, set-new-custom replaces them; bytes, ETag and checksum stay', async (t) => {
  const data = random(2 * 1024 * 1024 + 5);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'img.jpg', Body: data, Metadata: { label: 'cat' } }));
  const before = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'img.jpg' }));
  let r = await patch('img.jpg', JSON.stringify({ action: '', value: { Split: 'train', label: 'tabby' } }));
  t.is(r.status, 200, r.body.toString());
  t.deepEqual(await meta('img.jpg'), { label: 'tabby', split: 'train' });
  const native = await request(c.primary.url, { method: 'HEAD', path: `/v1/objects/${B}/img.jpg` });
  t.is(native.status, 200);
  t.deepEqual(String(native.headers['ais-custom-md']).split(',').map((x) => x.trim()).sort(), ['label=tabby', 'split=train']);
  r = await patch('img.jpg', JSON.stringify({ value: { source: 'web' } }), '?set-new-custom=true');
  t.is(r.status, 200, r.body.toString());
  t.deepEqual(await meta('img.jpg'), { source: 'web' });
  const after = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'img.jpg' }));
  t.is(after.ETag, before.ETag);
  t.is(native.headers['ais-checksum-value'], (await request(c.primary.url, { method: 'HEAD', path: `/v1/objects/${B}/img.jpg` })).headers['ais-checksum-value']);
  const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'img.jpg' }));
  t.is(sha256(Buffer.from(await g.Body!.transformToByteArray())), sha256(data), 'a verified GET still serves the same bytes');
});

test.serial('ais object set-custom: KEY=VALUE pairs, --set-new-custom', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'doc.txt', Body: 'hello' }));
  let r = await ais('object', 'set-custom', `ais://${B}/doc.txt`, 'lang=en', 'rev=3');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Custom props successfully updated/);
  t.deepEqual(await meta('doc.txt'), { lang: 'en', rev: '3' });
  r = await ais('object', 'set-custom', `ais://${B}/doc.txt`, 'rev=4', '--set-new-custom');
  t.is(r.code, 0, r.stderr);
  t.deepEqual(await meta('doc.txt'), { rev: '4' });
  r = await ais('object', 'set-custom', `ais://${B}/doc.txt`, 'novalue');
  t.is(r.code, 2);
  r = await ais('object', 'set-custom', `ais://${B}/absent.txt`, 'a=b');
  t.is(r.code, 1);
  t.regex(r.stderr, /does not exist/);
});

test.serial('bad set-custom input changes nothing: not JSON, not an object, a non-string value, bad keys and values, a missing object', async (t) => {
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'keep.bin', Body: random(1000), Metadata: { a: '1' } }));
  for (const body of ['{oops', JSON.stringify({ value: ['a'] }), JSON.stringify({ value: 'x' }), JSON.stringify({ value: { n: 1 } }), JSON.stringify({ value: { 'a=b': 'c' } }), JSON.stringify({ value: { k: 'x,y' } }), JSON.stringify({ value: { '': 'v' } })]) {
    const r = await patch('keep.bin', body);
    t.is(r.status, 400, body);
  }
  t.is((await patch('absent.bin', JSON.stringify({ value: { a: 'b' } }))).status, 404);
  t.deepEqual(await meta('keep.bin'), { a: '1' });
});
