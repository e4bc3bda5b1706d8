// End to end, one real aisnode: GET with Range at every edge, on a 1000-byte object (served from one
// buffer), a 3 MiB object (streamed over several buffers) and an empty one. Exact status, Content-Range,
// Content-Length and bytes.
import test from 'ava';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, objPath, sha256, md5, random, type AisNode } from './helpers/node';

const B = 'range';
const SMALL = 1000;
const BIG = 3 * (1 << 20);
let node: AisNode;
let s3: S3Client;
const objects: Record<string, Buffer> = {};

test.before(async () => {
  node = await startNode({ name: 'range' });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  for (const [key, size] of [['small', SMALL], ['big', BIG], ['empty', 0], ['one', 1]] as const) {
    objects[key] = random(size);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: objects[key] }));
  }
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

function get(key: string, range: string): ReturnType<typeof request> {
  return request(node.url, { method: 'GET', path: objPath(B, key), headers: { Range: range } });
}

interface Expect206 {
  start: number;
  end: number;
}

/** GET with the range: 206, exact Content-Range/Content-Length, and exactly the bytes asked for. */
async function check206(t: import('ava').ExecutionContext, key: string, range: string, e: Expect206): Promise<void> {
  const data = objects[key]!;
  const r = await get(key, range);
  const what = `${key} ${range}`;
  t.is(r.status, 206, what);
  t.is(r.headers['content-range'], `bytes ${e.start}-${e.end}/${data.length}`, what);
  t.is(r.headers['content-length'], String(e.end - e.start + 1), what);
  t.is(r.body.length, e.end - e.start + 1, what);
  t.is(sha256(r.body), sha256(data.subarray(e.start, e.end + 1)), what);
  t.is(r.headers['accept-ranges'], 'bytes', what);
  // The ETag is the whole object's, whatever part is sent.
  t.is(r.headers.etag, `"${md5(data)}"`, what);
}

/** GET with the range ignored: 200 with the whole object and no Content-Range. */
async function check200(t: import('ava').ExecutionContext, key: string, range: string): Promise<void> {
  const data = objects[key]!;
  const r = await get(key, range);
  const what = `${key} ${range}`;
  t.is(r.status, 200, what);
  t.is(r.headers['content-range'], undefined, what);
  t.is(r.headers['content-length'], String(data.length), what);
  t.is(sha256(r.body), sha256(data), what);
}

/** 416 InvalidRange with "Content-Range: bytes *\/size" and the S3 error XML. */
async function check416(t: import('ava').ExecutionContext, key: string, range: string): Promise<void> {
  const size = objects[key]!.length;
  const r = await get(key, range);
  const what = `${key} ${range}`;
  t.is(r.status, 416, what);
  t.is(r.headers['content-range'], `bytes */${size}`, what);
  t.is(xmlCode(r.body), 'InvalidRange', what);
  t.regex(r.headers['content-type'] ?? '', /xml/, what);
  t.regex(r.body.toString(), new RegExp(`<ActualObjectSize>${size}</ActualObjectSize>`), what);
}

for (const [key, size] of [['small', SMALL], ['big', BIG]] as const) {
  test(`${key} (${size} bytes): first byte, whole, last byte, open-ended, suffix`, async (t) => {
    await check206(t, key, 'bytes=0-0', { start: 0, end: 0 });
    await check206(t, key, 'bytes=1-1', { start: 1, end: 1 });
    await check206(t, key, `bytes=0-${size - 1}`, { start: 0, end: size - 1 });
    await check206(t, key, `bytes=${size - 1}-${size - 1}`, { start: size - 1, end: size - 1 });
    await check206(t, key, `bytes=${size - 1}-`, { start: size - 1, end: size - 1 });
    await check206(t, key, 'bytes=0-', { start: 0, end: size - 1 });
    await check206(t, key, 'bytes=17-', { start: 17, end: size - 1 });
    await check206(t, key, 'bytes=-1', { start: size - 1, end: size - 1 });
    await check206(t, key, 'bytes=-100', { start: size - 100, end: size - 1 });
    await check206(t, key, `bytes=-${size}`, { start: 0, end: size - 1 });
    await check206(t, key, `bytes=10-${size - 11}`, { start: 10, end: size - 11 });
  });

  test(`${key} (${size} bytes): suffix longer than the object, end past the object`, async (t) => {
    // A suffix longer than the object: all of it, still a 206 with a Content-Range.
    await check206(t, key, `bytes=-${size + 1}`, { start: 0, end: size - 1 });
    await check206(t, key, 'bytes=-99999999999', { start: 0, end: size - 1 });
    // The last byte position past the end is clamped.
    await check206(t, key, `bytes=0-${size}`, { start: 0, end: size - 1 });
    await check206(t, key, `bytes=${size - 5}-${size + 1000}`, { start: size - 5, end: size - 1 });
    await check206(t, key, 'bytes=5-99999999999999', { start: 5, end: size - 1 });
  });

  test(`${key} (${size} bytes): unsatisfiable ranges are 416 with bytes */size`, async (t) => {
    await check416(t, key, `bytes=${size}-`);
    await check416(t, key, `bytes=${size}-${size}`);
    await check416(t, key, `bytes=${size}-${size + 10}`);
    await check416(t, key, `bytes=${size + 1}-`);
    await check416(t, key, 'bytes=-0');
  });

  test(`${key} (${size} bytes): malformed and multiple ranges are ignored (200, whole object)`, async (t) => {
    for (const range of ['bytes=5-1', 'bytes=x-', 'bytes=a-b', 'bytes=--1', 'bytes=1-2-3', 'items=0-1', 'bytes', '0-1', 'bytes=0-1,5-6', `bytes=0-0,-1`, 'bytes=1.5-2']) {
      await check200(t, key, range);
    }
  });
}

test('big object: ranges across the 1 MiB buffer boundaries', async (t) => {
  const M = 1 << 20;
  await check206(t, 'big', `bytes=${M - 1}-${M}`, { start: M - 1, end: M });
  await check206(t, 'big', `bytes=${M}-${2 * M - 1}`, { start: M, end: 2 * M - 1 });
  await check206(t, 'big', `bytes=${M - 3}-${2 * M + 3}`, { start: M - 3, end: 2 * M + 3 });
  await check206(t, 'big', `bytes=${2 * M}-`, { start: 2 * M, end: BIG - 1 });
  await check206(t, 'big', `bytes=-${M + 1}`, { start: BIG - M - 1, end: BIG - 1 });
});

test('1-byte object: the only byte, suffixes, 416 past it', async (t) => {
  await check206(t, 'one', 'bytes=0-0', { start: 0, end: 0 });
  await check206(t, 'one', 'bytes=0-', { start: 0, end: 0 });
  await check206(t, 'one', 'bytes=-1', { start: 0, end: 0 });
  await check206(t, 'one', 'bytes=-5', { start: 0, end: 0 });
  await check206(t, 'one', 'bytes=0-10', { start: 0, end: 0 });
  await check416(t, 'one', 'bytes=1-');
  await check416(t, 'one', 'bytes=1-1');
});

test('empty object: first-byte ranges are 416 bytes */0, a suffix range is 200 with the empty body', async (t) => {
  await check416(t, 'empty', 'bytes=0-0');
  await check416(t, 'empty', 'bytes=0-');
  await check416(t, 'empty', 'bytes=0-10');
  await check200(t, 'empty', 'bytes=-5');
  await check200(t, 'empty', 'bytes=5-1');
  const r = await request(node.url, { method: 'GET', path: objPath(B, 'empty') });
  t.is(r.status, 200);
  t.is(r.headers['content-length'], '0');
  t.is(r.body.length, 0);
});

test('HEAD with an unsatisfiable range: 416 without a body', async (t) => {
  const r = await request(node.url, { method: 'HEAD', path: objPath(B, 'small'), headers: { Range: `bytes=${SMALL}-` } });
  t.is(r.status, 416);
  t.is(r.body.length, 0);
});

test('HEAD with a satisfiable range: 206, Content-Length of the range, Content-Range', async (t) => {
  // S3 (HeadObject, Range): "If the Range is satisfiable, only the ContentLength is affected"; S3 answers
  // 206 with the Content-Range it would send on GET.
  const r = await request(node.url, { method: 'HEAD', path: objPath(B, 'small'), headers: { Range: 'bytes=0-9' } });
  t.is(r.body.length, 0);
  t.is(r.headers['content-length'], '10');
  t.is(r.status, 206);
  t.is(r.headers['content-range'], `bytes 0-9/${SMALL}`);
  const sdk = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big', Range: 'bytes=-100' }));
  t.is(sdk.ContentLength, 100);
});

test('range of a missing object is NoSuchKey, not 416', async (t) => {
  const r = await get('nope', 'bytes=0-0');
  t.is(r.status, 404);
  t.is(xmlCode(r.body), 'NoSuchKey');
});

test('SDK GetObject with Range: ContentRange, ContentLength and bytes', async (t) => {
  const data = objects.big!;
  const out = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', Range: 'bytes=1048570-2097160' }));
  const body = Buffer.from(await out.Body!.transformToByteArray());
  t.is(out.$metadata.httpStatusCode, 206);
  t.is(out.ContentRange, `bytes 1048570-2097160/${BIG}`);
  t.is(out.ContentLength, 2097160 - 1048570 + 1);
  t.is(sha256(body), sha256(data.subarray(1048570, 2097161)));

  const suffix = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'small', Range: 'bytes=-10' }));
  t.is(suffix.ContentRange, `bytes ${SMALL - 10}-${SMALL - 1}/${SMALL}`);
  t.deepEqual(Buffer.from(await suffix.Body!.transformToByteArray()), objects.small!.subarray(SMALL - 10));

  const err = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'small', Range: `bytes=${SMALL}-` })).then(
    () => undefined,
    (e: { name: string; $metadata: { httpStatusCode?: number } }) => e,
  );
  t.is(err?.name, 'InvalidRange');
  t.is(err?.$metadata.httpStatusCode, 416);
});
