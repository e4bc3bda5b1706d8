// End to end: DeleteObjects (POST /bucket?delete) through @aws-sdk/client-s3 (pinned and default
// checksums) and raw HTTP: deleted and missing keys, Quiet, per-key errors, 1000 keys, MalformedXML,
// Content-MD5, and nothing deleted when the request as a whole fails.
import test from 'ava';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, xmlAll, objPath, mapLimit, type AisNode, type RawResponse } from './helpers/node';
import { escapeXml } from '../src/s3/xml';

let node: AisNode;
let s3: S3Client;
let s3d: S3Client;
const B = 'delm';

test.before(async () => {
  node = await startNode({ name: 'delm' });
  s3 = s3Client(node.url);
  s3d = s3Client(node.url, { sdkDefaultChecksums: true });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after.always(async () => {
  s3?.destroy();
  s3d?.destroy();
  await node?.stop();
});

async function putAll(keys: readonly string[]): Promise<void> {
  await mapLimit(keys, 16, async (k) => {
    const r = await request(node.url, { method: 'PUT', path: objPath(B, k), body: `body of ${k}` });
    if (r.status !== 200) throw new Error(`PUT ${k}: ${r.status}`);
  });
}

async function exists(k: string): Promise<boolean> {
  const r = await request(node.url, { method: 'HEAD', path: objPath(B, k) });
  return r.status === 200;
}

function deleteBody(keys: readonly (string | { key: string; version?: string })[], quiet?: boolean): string {
  let s = '<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">';
  if (quiet !== undefined) s += `<Quiet>${quiet}</Quiet>`;
  for (const k of keys) {
    const o = typeof k === 'string' ? { key: k } : k;
    s += `<Object><Key>${escapeXml(o.key)}</Key>${o.version !== undefined ? `<VersionId>${o.version}</VersionId>` : ''}</Object>`;
  }
  return s + '</Delete>';
}

function post(body: string | Buffer, headers: Record<string, string> = {}, bucket = B, method = 'POST'): Promise<RawResponse> {
  // Content-Length explicitly: node sends a DELETE body without framing otherwise.
  const h = { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)), ...headers };
  return request(node.url, { method, path: `/s3/${bucket}?delete`, headers: h, body });
}

const md5b64 = (b: string | Buffer): string => createHash('md5').update(b).digest('base64');

test('SDK: existing and missing keys are all reported deleted; the rest stays', async (t) => {
  const keys = ['sdk/a', 'sdk/b', 'sdk/dir/c', 'sdk/keep'];
  await putAll(keys);
  for (const client of [s3, s3d]) {
    const out = await client.send(
      new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'sdk/a' }, { Key: 'sdk/b' }, { Key: 'sdk/dir/c' }, { Key: 'sdk/missing' }] } }),
    );
    t.deepEqual(out.Deleted!.map((d) => d.Key).sort(), ['sdk/a', 'sdk/b', 'sdk/dir/c', 'sdk/missing']);
    t.is(out.Errors, undefined);
    for (const k of ['sdk/a', 'sdk/b', 'sdk/dir/c']) t.false(await exists(k));
    t.true(await exists('sdk/keep'));
    await putAll(['sdk/a', 'sdk/b', 'sdk/dir/c']);
  }
});

test('Quiet lists only errors', async (t) => {
  await putAll(['q/1', 'q/2']);
  const r = await post(deleteBody(['q/1', 'q/2', 'q/none'], true));
  t.is(r.status, 200);
  t.deepEqual(xmlAll(r.body, 'Key'), []);
  t.true(r.body.toString().includes('<DeleteResult'));
  t.false(await exists('q/1'));
  const sdk = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Quiet: true, Objects: [{ Key: 'q/2' }, { Key: 'k'.repeat(1025) }] } }));
  t.is(sdk.Deleted, undefined);
  t.deepEqual(sdk.Errors?.map((e) => [e.Key, e.Code]), [['k'.repeat(1025), 'KeyTooLongError']]);
});

test('per-key errors do not stop the others; version ids; hostile key names round-trip', async (t) => {
  const odd = ['odd/a&b<c>"d\'', 'odd/ünï 😀', 'odd/ sp ', 'odd/tab\there'];
  await putAll(['e/ok', 'e/v', ...odd]);
  const long = 'x'.repeat(1025);
  const r = await post(deleteBody(['e/ok', long, '', { key: 'e/v', version: 'null' }, { key: 'e/other', version: 'v1' }, ...odd]));
  t.is(r.status, 200, r.body.toString());
  const text = r.body.toString();
  const deleted = [...text.matchAll(/<Deleted>(.*?)<\/Deleted>/g)].map((m) => m[1]!);
  const errors = [...text.matchAll(/<Error>(.*?)<\/Error>/g)].map((m) => m[1]!);
  t.deepEqual(
    deleted.map((d) => xmlAll(d, 'Key')[0]),
    ['e/ok', 'e/v', ...odd],
  );
  t.deepEqual(xmlAll(deleted[1]!, 'VersionId'), ['null']);
  t.deepEqual(
    errors.map((e) => [xmlAll(e, 'Key')[0], xmlAll(e, 'Code')[0]]),
    [
      [long, 'KeyTooLongError'],
      ['', 'InvalidArgument'],
      ['e/other', 'NoSuchVersion'],
    ],
  );
  t.true(errors.every((e) => xmlAll(e, 'Message')[0]!.length > 0));
  for (const k of ['e/ok', 'e/v', ...odd]) t.false(await exists(k), k);
});

test('1000 keys in one request; 1001 is MalformedXML and deletes nothing', async (t) => {
  const present = Array.from({ length: 300 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
  await putAll(present);
  const over = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
  const bad = await post(deleteBody(over));
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'MalformedXML');
  t.true(await exists('many/0000'));
  t.true(await exists('many/0299'));
  const out = await s3.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: over.slice(0, 1000).map((Key) => ({ Key })) } }));
  t.is(out.Deleted!.length, 1000);
  t.deepEqual(out.Deleted!.map((d) => d.Key), over.slice(0, 1000));
  for (const k of ['many/0000', 'many/0150', 'many/0299']) t.false(await exists(k));
});

test('bad XML, empty body, wrong root: MalformedXML and nothing deleted', async (t) => {
  await putAll(['x/keep']);
  for (const body of ['', '<Delete><Object><Key>x/keep</Key></Object>', '<Delete></Delete>', '<Remove><Object><Key>x/keep</Key></Object></Remove>', 'x/keep']) {
    const r = await post(body);
    t.is(r.status, 400, body);
    t.is(xmlCode(r.body), 'MalformedXML', body);
  }
  t.true(await exists('x/keep'));
});

test('Content-MD5: a match deletes, a mismatch is BadDigest, a malformed one InvalidDigest', async (t) => {
  await putAll(['m/1']);
  const body = deleteBody(['m/1']);
  const bad = await post(body, { 'content-md5': md5b64('something else') });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'BadDigest');
  t.true(await exists('m/1'));
  const invalid = await post(body, { 'content-md5': 'not-base64-md5' });
  t.is(invalid.status, 400);
  t.is(xmlCode(invalid.body), 'InvalidDigest');
  t.true(await exists('m/1'));
  const ok = await post(body, { 'content-md5': md5b64(body) });
  t.is(ok.status, 200);
  t.deepEqual(xmlAll(ok.body, 'Key'), ['m/1']);
  t.false(await exists('m/1'));
});

test('missing bucket; DELETE /bucket?delete (AIStore form) works too', async (t) => {
  const r = await post(deleteBody(['a']), {}, 'no-such-bucket');
  t.is(r.status, 404);
  t.is(xmlCode(r.body), 'NoSuchBucket');
  await putAll(['d/1']);
  const d = await post(deleteBody(['d/1']), {}, B, 'DELETE');
  t.is(d.status, 200);
  t.deepEqual(xmlAll(d.body, 'Key'), ['d/1']);
  t.false(await exists('d/1'));
});

test('SDK PutObject then DeleteObjects with default checksums', async (t) => {
  await s3d.send(new PutObjectCommand({ Bucket: B, Key: 'dflt/1', Body: 'x' }));
  const out = await s3d.send(new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'dflt/1' }] } }));
  t.deepEqual(out.Deleted?.map((d) => d.Key), ['dflt/1']);
  t.false(await exists('dflt/1'));
});
