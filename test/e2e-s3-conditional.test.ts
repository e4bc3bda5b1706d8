// End to end: conditional GET/HEAD (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
// RFC 9110 §13.2.2 precedence as S3 documents it) and conditional PUT (If-None-Match: *, If-Match),
// through raw HTTP (exact status, headers, empty bodies) and @aws-sdk/client-s3.
import test from 'ava';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, objPath, sha256, md5, random, walkFiles, mapLimit, type AisNode, type RawResponse } from './helpers/node';

let node: AisNode;
let s3: S3Client;
const B = 'cond';
const KEY = 'dir/object.bin';
const DATA = random(300_000);
let etag = '';
let lastModified = '';
let lmMs = 0;

const date = (ms: number): string => new Date(ms).toUTCString();

test.before(async () => {
  node = await startNode({ name: 'cond' });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  const r = await request(node.url, { method: 'PUT', path: objPath(B, KEY), body: DATA });
  if (r.status !== 200) throw new Error(`PUT ${r.status}`);
  const h = await request(node.url, { method: 'HEAD', path: objPath(B, KEY) });
  etag = String(h.headers.etag);
  lastModified = String(h.headers['last-modified']);
  lmMs = Date.parse(lastModified);
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

function get(headers: Record<string, string>, method = 'GET', key = KEY): Promise<RawResponse> {
  return request(node.url, { method, path: objPath(B, key), headers });
}

async function expect200(t: import('ava').ExecutionContext, headers: Record<string, string>): Promise<void> {
  const r = await get(headers);
  t.is(r.status, 200, JSON.stringify(headers));
  t.is(sha256(r.body), sha256(DATA));
}

async function expect304(t: import('ava').ExecutionContext, headers: Record<string, string>, method = 'GET'): Promise<void> {
  const r = await get(headers, method);
  t.is(r.status, 304, JSON.stringify(headers));
  t.is(r.body.length, 0);
  t.is(r.headers.etag, etag);
  t.is(r.headers['last-modified'], lastModified);
}

async function expect412(t: import('ava').ExecutionContext, headers: Record<string, string>, method = 'GET'): Promise<void> {
  const r = await get(headers, method);
  t.is(r.status, 412, JSON.stringify(headers));
  if (method === 'GET') t.is(xmlCode(r.body), 'PreconditionFailed');
  else t.is(r.body.length, 0);
}

test('the object has an MD5 ETag and a Last-Modified', (t) => {
  t.is(etag, `"${md5(DATA)}"`);
  t.true(lmMs > 0);
});

test('If-Match: quoted, unquoted, lists, * and mismatches', async (t) => {
  await expect200(t, { 'If-Match': etag });
  await expect200(t, { 'If-Match': etag.slice(1, -1) });
  await expect200(t, { 'If-Match': `"0123", ${etag}` });
  await expect200(t, { 'If-Match': '*' });
  await expect412(t, { 'If-Match': '"00000000000000000000000000000000"' });
  await expect412(t, { 'If-Match': '"00000000000000000000000000000000"' }, 'HEAD');
  // A conditional GET of a missing key is still 404.
  const r = await get({ 'If-Match': etag }, 'GET', 'no/such/key');
  t.is(r.status, 404);
  t.is(xmlCode(r.body), 'NoSuchKey');
});

test('If-None-Match: 304 with validators and no body; other tags serve', async (t) => {
  await expect304(t, { 'If-None-Match': etag });
  await expect304(t, { 'If-None-Match': etag.slice(1, -1) });
  await expect304(t, { 'If-None-Match': `"abc", ${etag}` });
  await expect304(t, { 'If-None-Match': '*' });
  await expect304(t, { 'If-None-Match': etag }, 'HEAD');
  await expect200(t, { 'If-None-Match': '"abc"' });
});

test('If-Modified-Since and If-Unmodified-Since (second granularity, bad dates ignored)', async (t) => {
  await expect200(t, { 'If-Modified-Since': date(lmMs - 60_000) });
  await expect304(t, { 'If-Modified-Since': lastModified });
  await expect304(t, { 'If-Modified-Since': date(lmMs + 3_600_000) });
  await expect304(t, { 'If-Modified-Since': lastModified }, 'HEAD');
  await expect200(t, { 'If-Unmodified-Since': lastModified });
  await expect200(t, { 'If-Unmodified-Since': date(lmMs + 60_000) });
  await expect412(t, { 'If-Unmodified-Since': date(lmMs - 60_000) });
  await expect412(t, { 'If-Unmodified-Since': date(lmMs - 60_000) }, 'HEAD');
  await expect200(t, { 'If-Modified-Since': 'yesterday' });
  await expect200(t, { 'If-Unmodified-Since': '2001-01-01' });
});

test('precedence as S3 documents it (RFC 9110 §13.2.2)', async (t) => {
  // If-Match true + If-Unmodified-Since false → 200.
  await expect200(t, { 'If-Match': etag, 'If-Unmodified-Since': date(lmMs - 60_000) });
  // If-Match false wins over anything.
  await expect412(t, { 'If-Match': '"x"', 'If-Unmodified-Since': date(lmMs + 60_000) });
  await expect412(t, { 'If-Match': '"x"', 'If-None-Match': etag });
  // If-None-Match false (it matches) + If-Modified-Since true → 304.
  await expect304(t, { 'If-None-Match': etag, 'If-Modified-Since': date(lmMs - 60_000) });
  // If-None-Match true (no match) + If-Modified-Since false → 200: If-Modified-Since is not evaluated.
  await expect200(t, { 'If-None-Match': '"x"', 'If-Modified-Since': date(lmMs + 60_000) });
  // If-Unmodified-Since false, then If-None-Match would be 304: the 412 comes first.
  await expect412(t, { 'If-Unmodified-Since': date(lmMs - 60_000), 'If-None-Match': etag });
  // If-Match true + If-None-Match matches → 304.
  await expect304(t, { 'If-Match': etag, 'If-None-Match': etag });
});

test('conditions are checked before the range', async (t) => {
  const r = await get({ 'If-Match': etag, Range: 'bytes=10-19' });
  t.is(r.status, 206);
  t.deepEqual(r.body, DATA.subarray(10, 20));
  await expect304(t, { 'If-None-Match': etag, Range: 'bytes=10-19' });
  const bad = await get({ 'If-Match': '"x"', Range: 'bytes=10-19' });
  t.is(bad.status, 412);
});

test('SDK: GetObject/HeadObject with conditions', async (t) => {
  const ok = await s3.send(new GetObjectCommand({ Bucket: B, Key: KEY, IfMatch: etag, IfModifiedSince: new Date(lmMs - 60_000) }));
  t.is(sha256(Buffer.from(await ok.Body!.transformToByteArray())), sha256(DATA));
  const status = async (p: Promise<unknown>): Promise<number | undefined> => {
    try {
      await p;
      return 200;
    } catch (err) {
      if (err instanceof S3ServiceException) return err.$metadata.httpStatusCode;
      throw err;
    }
  };
  t.is(await status(s3.send(new GetObjectCommand({ Bucket: B, Key: KEY, IfNoneMatch: etag }))), 304);
  t.is(await status(s3.send(new GetObjectCommand({ Bucket: B, Key: KEY, IfMatch: '"nope"' }))), 412);
  t.is(await status(s3.send(new HeadObjectCommand({ Bucket: B, Key: KEY, IfModifiedSince: new Date(lmMs + 60_000) }))), 304);
  t.is(await status(s3.send(new HeadObjectCommand({ Bucket: B, Key: KEY, IfUnmodifiedSince: new Date(lmMs - 60_000) }))), 412);
});

// ---- conditional PUT

async function put(key: string, body: Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(node.url, { method: 'PUT', path: objPath(B, key), headers, body });
}

async function content(key: string): Promise<Buffer | undefined> {
  const r = await request(node.url, { method: 'GET', path: objPath(B, key) });
  return r.status === 200 ? r.body : undefined;
}

test('PUT If-None-Match: * creates only', async (t) => {
  const k = 'put/create-only';
  const a = random(1000);
  const r1 = await put(k, a, { 'If-None-Match': '*' });
  t.is(r1.status, 200);
  t.is(r1.headers.etag, `"${md5(a)}"`);
  const r2 = await put(k, random(5000), { 'If-None-Match': '*' });
  t.is(r2.status, 412);
  t.is(xmlCode(r2.body), 'PreconditionFailed');
  t.deepEqual(await content(k), a);
  // Large bodies (streamed, several buffers) take the same path.
  const big = random(5 * 1024 * 1024 + 7);
  const r3 = await put('put/create-only-big', big, { 'If-None-Match': '*' });
  t.is(r3.status, 200);
  t.is(sha256((await content('put/create-only-big'))!), sha256(big));
  // S3 supports only * on writes.
  const r4 = await put('put/other', a, { 'If-None-Match': '"abc"' });
  t.is(r4.status, 501);
  t.is(await content('put/other'), undefined);
});

test('PUT If-Match replaces only the version named; absent key → 404', async (t) => {
  const k = 'put/replace';
  const a = random(2000);
  t.is((await put(k, a)).status, 200);
  const b = random(3000);
  const bad = await put(k, b, { 'If-Match': '"00000000000000000000000000000000"' });
  t.is(bad.status, 412);
  t.is(xmlCode(bad.body), 'PreconditionFailed');
  t.deepEqual(await content(k), a);
  const ok = await put(k, b, { 'If-Match': `"${md5(a)}"` });
  t.is(ok.status, 200);
  t.deepEqual(await content(k), b);
  const unq = await put(k, a, { 'If-Match': md5(b) });
  t.is(unq.status, 200);
  t.deepEqual(await content(k), a);
  const missing = await put('put/missing', b, { 'If-Match': `"${md5(b)}"` });
  t.is(missing.status, 404);
  t.is(xmlCode(missing.body), 'NoSuchKey');
  t.is(await content('put/missing'), undefined);
});

// Serial: the other tests of this file PUT into the same bucket at the same time, and their work files in
// flight would be counted as this race's leftovers.
test.serial('PUT If-None-Match: * racing on one key: exactly one wins, no work files left', async (t) => {
  const k = 'put/race';
  const bodies = Array.from({ length: 12 }, () => random(200_000));
  const rs = await mapLimit(bodies, 12, (b) => put(k, b, { 'If-None-Match': '*' }));
  const winners = rs.map((r, i) => (r.status === 200 ? i : -1)).filter((i) => i >= 0);
  t.is(winners.length, 1, rs.map((r) => r.status).join(','));
  t.true(rs.every((r) => r.status === 200 || r.status === 412));
  t.deepEqual(await content(k), bodies[winners[0]!]);
  const work = node.dirs.mountpaths.flatMap((mp) => walkFiles(path.join(mp, '@ais', B, '%wk')));
  t.deepEqual(work, []);
});

test('PUT If-Match racing on one key: exactly one replaces the version named', async (t) => {
  const k = 'put/race-match';
  const first = random(1000);
  t.is((await put(k, first)).status, 200);
  const bodies = Array.from({ length: 12 }, () => random(300_000));
  const rs = await mapLimit(bodies, 12, (b) => put(k, b, { 'If-Match': `"${md5(first)}"` }));
  const winners = rs.map((r, i) => (r.status === 200 ? i : -1)).filter((i) => i >= 0);
  t.is(winners.length, 1, rs.map((r) => r.status).join(','));
  t.true(rs.every((r) => r.status === 200 || r.status === 412));
  t.deepEqual(await content(k), bodies[winners[0]!]);
});

test('SDK: PutObject IfNoneMatch / IfMatch', async (t) => {
  const k = 'put/sdk';
  const a = random(100);
  const r = await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: a, IfNoneMatch: '*' }));
  t.is(r.ETag, `"${md5(a)}"`);
  const err = await t.throwsAsync(s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: random(10), IfNoneMatch: '*' })));
  t.is((err as S3ServiceException).$metadata.httpStatusCode, 412);
  const b = random(50);
  const r2 = await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: b, IfMatch: r.ETag }));
  t.is(r2.ETag, `"${md5(b)}"`);
  const err2 = await t.throwsAsync(s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: a, IfMatch: r.ETag })));
  t.is((err2 as S3ServiceException).$metadata.httpStatusCode, 412);
  t.deepEqual(await content(k), b);
});

test('response-* overrides replace the response headers of a GET (SDK and raw)', async (t) => {
  const q = new URLSearchParams({
    'response-content-type': 'text/x-over',
    'response-content-disposition': 'attachment; filename="x y.bin"',
    'response-content-language': 'de',
    'response-cache-control': 'no-store',
    'response-expires': 'Thu, 01 Jan 2037 00:00:00 GMT',
    'response-content-encoding': 'identity',
  });
  const r = await request(node.url, { method: 'GET', path: `${objPath(B, KEY)}?${q.toString()}` });
  t.is(r.status, 200);
  t.is(sha256(r.body), sha256(DATA));
  t.is(r.headers['content-type'], 'text/x-over');
  t.is(r.headers['content-disposition'], 'attachment; filename="x y.bin"');
  t.is(r.headers['content-language'], 'de');
  t.is(r.headers['cache-control'], 'no-store');
  t.is(r.headers.expires, 'Thu, 01 Jan 2037 00:00:00 GMT');
  t.is(r.headers['content-encoding'], 'identity');
  const out = await s3.send(new GetObjectCommand({ Bucket: B, Key: KEY, ResponseContentType: 'image/png', ResponseContentDisposition: 'inline' }));
  t.is(out.ContentType, 'image/png');
  t.is(out.ContentDisposition, 'inline');
  t.is(sha256(Buffer.from(await out.Body!.transformToByteArray())), sha256(DATA));
});
