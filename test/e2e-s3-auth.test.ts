// End to end, a node with access keys configured (auth.s3.keys): the SDK with the right keys works
// (PUT, GET, list, multipart, multi-delete, at the SDK's default checksums), wrong secret / unknown key /
// no auth are refused with S3's errors, presigned GET and PUT URLs (made with our signer, checked
// against the AWS example in s3-sigv4.test.ts) work with node:http and expire, skewed dates are
// refused, signed bodies are checked (x-amz-content-sha256 hash, the aws-chunked signature chain), and
// s3cmd's "host_base = HOST:PORT/s3" signing form is accepted.
import test from 'ava';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { startNode, request, xmlCode, sha256, random, type AisNode } from './helpers/node';
import { chunkStringToSign, EMPTY_SHA256, formatAmzDate, presignQuery, sha256Hex, signHex, signingKey, signRequest, trailerStringToSign } from '../src/s3/sigv4';

const AK = 'TAISE2EKEY';
const SK = 'tais/e2e+Secret';
const BUCKET = 'authb';
let node: AisNode;
let s3: S3Client;
let host: string;

function client(accessKeyId: string, secretAccessKey: string, defaults = true): S3Client {
  return new S3Client({
    endpoint: node.s3url,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    ...(defaults ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    maxAttempts: 1,
  });
}

test.before(async () => {
  node = await startNode({ name: 'auth', config: { auth: { s3: { keys: { [AK]: SK, other: 'x' }, max_skew_s: 900 } } } });
  host = `127.0.0.1:${node.port}`;
  s3 = client(AK, SK);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

async function errCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { Code?: string; name: string }).Code ?? (err as Error).name;
  }
}

/** A raw request signed with our signer (as an SDK would with endpoint .../s3). */
function signed(method: string, path: string, opts: { query?: string; body?: Buffer; payloadHash?: string; headers?: Record<string, string>; amzDate?: string; signPath?: string; signHost?: string; secret?: string } = {}) {
  const amzDate = opts.amzDate ?? formatAmzDate(Date.now());
  const payloadHash = opts.payloadHash ?? sha256Hex(opts.body ?? Buffer.alloc(0));
  const headers: Record<string, string> = { host: opts.signHost ?? host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash, ...(opts.headers ?? {}) };
  const s = signRequest({ method, path: opts.signPath ?? path, query: opts.query, headers, payloadHash, accessKey: AK, secret: opts.secret ?? SK, region: 'us-east-1', amzDate });
  return {
    sig: s.signature,
    amzDate,
    send: (body = opts.body) =>
      request(node.url, { method, path: path + (opts.query ? '?' + opts.query : ''), headers: { ...headers, host, authorization: s.authorization }, body }),
  };
}

test('SDK with the right keys: PUT, GET, list, multipart, DeleteObjects (default checksums and WHEN_REQUIRED)', async (t) => {
  for (const c of [s3, client(AK, SK, false)]) {
    const body = random(300_000);
    await c.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'dir/o 1+x', Body: body }));
    const got = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/o 1+x' }));
    t.is(sha256(Buffer.from(await got.Body!.transformToByteArray())), sha256(body));
    const ranged = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/o 1+x', Range: 'bytes=0-9' }));
    t.deepEqual(Buffer.from(await ranged.Body!.transformToByteArray()), body.subarray(0, 10));
    const list = await c.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir/', Delimiter: '/' }));
    t.true((list.Contents ?? []).some((o) => o.Key === 'dir/o 1+x'));
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu' }));
    const p1 = random(5 << 20);
    const p2 = random(1000);
    const e1 = await c.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, PartNumber: 1, Body: p1 }));
    const e2 = await c.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, PartNumber: 2, Body: p2 }));
    await c.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
    const whole = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'mpu' }));
    t.is(sha256(Buffer.from(await whole.Body!.transformToByteArray())), sha256(Buffer.concat([p1, p2])));
    const del = await c.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'mpu' }, { Key: 'dir/o 1+x' }] } }));
    t.is(del.Deleted?.length, 2);
  }
});

test('wrong secret → SignatureDoesNotMatch, unknown key → InvalidAccessKeyId, no auth → AccessDenied', async (t) => {
  const bad = client(AK, 'wrong');
  const unknown = client('NOSUCHKEY', SK);
  t.is(await errCode(bad.send(new ListObjectsV2Command({ Bucket: BUCKET }))), 'SignatureDoesNotMatch');
  t.is(await errCode(bad.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'x', Body: 'abc' }))), 'SignatureDoesNotMatch');
  t.is(await errCode(unknown.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'x' }))), 'InvalidAccessKeyId');
  bad.destroy();
  unknown.destroy();
  const r = await request(node.url, { method: 'GET', path: `/s3/${BUCKET}` });
  t.is(r.status, 403);
  t.is(xmlCode(r.body), 'AccessDenied');
  const put = await request(node.url, { method: 'PUT', path: `/s3/${BUCKET}/anon`, body: 'x' });
  t.is(put.status, 403);
  t.is((await request(node.url, { method: 'HEAD', path: `/s3/${BUCKET}/anon` })).status, 403);
  // The native API is not S3: untouched by S3 authentication.
  t.is((await request(node.url, { method: 'GET', path: '/v1/health' })).status, 200);
});

test('presigned PUT and GET URLs work with node:http; expired → 403 AccessDenied; tampered → SignatureDoesNotMatch', async (t) => {
  const path = `/s3/${BUCKET}/pre%20signed.bin`;
  const body = random(100_000);
  const now = formatAmzDate(Date.now());
  const putQ = presignQuery({ method: 'PUT', path, host, accessKey: AK, secret: SK, region: 'us-east-1', amzDate: now, expires: 600 });
  t.is((await request(node.url, { method: 'PUT', path: `${path}?${putQ}`, body })).status, 200);
  const getQ = presignQuery({ method: 'GET', path, host, accessKey: AK, secret: SK, region: 'eu-central-1', amzDate: now, expires: 600 });
  const got = await request(node.url, { method: 'GET', path: `${path}?${getQ}` });
  t.is(got.status, 200);
  t.is(sha256(got.body), sha256(body));
  // With response-* overrides signed in the URL.
  const ovQ = presignQuery({ method: 'GET', path, host, query: 'response-content-type=text%2Fplain', accessKey: AK, secret: SK, region: 'us-east-1', amzDate: now, expires: 600 });
  const ov = await request(node.url, { method: 'GET', path: `${path}?${ovQ}` });
  t.is(ov.status, 200);
  t.is(ov.headers['content-type'], 'text/plain');
  // A GET URL used for PUT does not match.
  const wrongMethod = await request(node.url, { method: 'PUT', path: `${path}?${getQ}`, body: 'x' });
  t.is(wrongMethod.status, 403);
  t.is(xmlCode(wrongMethod.body), 'SignatureDoesNotMatch');
  const old = formatAmzDate(Date.now() - 2 * 3600_000);
  const expQ = presignQuery({ method: 'GET', path, host, accessKey: AK, secret: SK, region: 'us-east-1', amzDate: old, expires: 60 });
  const exp = await request(node.url, { method: 'GET', path: `${path}?${expQ}` });
  t.is(exp.status, 403);
  t.is(xmlCode(exp.body), 'AccessDenied');
  t.regex(exp.body.toString(), /Request has expired/);
  // A presigned URL may be used long after X-Amz-Date as long as it has not expired (no skew check).
  const longQ = presignQuery({ method: 'GET', path, host, accessKey: AK, secret: SK, region: 'us-east-1', amzDate: old, expires: 604800 });
  t.is((await request(node.url, { method: 'GET', path: `${path}?${longQ}` })).status, 200);
});

test('skewed X-Amz-Date → RequestTimeTooSkewed; malformed Authorization → 400', async (t) => {
  const r = await signed('GET', `/s3/${BUCKET}`, { amzDate: formatAmzDate(Date.now() - 20 * 60_000) }).send();
  t.is(r.status, 403);
  t.is(xmlCode(r.body), 'RequestTimeTooSkewed');
  t.is((await signed('GET', `/s3/${BUCKET}`, { amzDate: formatAmzDate(Date.now() - 10 * 60_000) }).send()).status, 200);
  const m = await request(node.url, { method: 'GET', path: `/s3/${BUCKET}`, headers: { authorization: 'AWS4-HMAC-SHA256 Credential=garbage', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': formatAmzDate(Date.now()) } });
  t.is(m.status, 400);
  t.is(xmlCode(m.body), 'AuthorizationHeaderMalformed');
});

test('s3cmd host_base = HOST:PORT/s3 form: signs /bucket/key and host+"/s3", sends /s3/bucket/key', async (t) => {
  const body = Buffer.from('s3cmd style');
  const put = await signed('PUT', `/s3/${BUCKET}/s3cmd.txt`, { body, signPath: `/${BUCKET}/s3cmd.txt`, signHost: `${host}/s3` }).send();
  t.is(put.status, 200, put.body.toString());
  const get = await signed('GET', `/s3/${BUCKET}/s3cmd.txt`, { signPath: `/${BUCKET}/s3cmd.txt`, signHost: `${host}/s3` }).send();
  t.is(get.body.toString(), 's3cmd style');
  // Other mixes are not accepted (path without /s3 but the plain host).
  const mixed = await signed('GET', `/s3/${BUCKET}/s3cmd.txt`, { signPath: `/${BUCKET}/s3cmd.txt` }).send();
  t.is(xmlCode(mixed.body), 'SignatureDoesNotMatch');
});

test('signed payload hash: a body that does not match x-amz-content-sha256 is refused and not stored', async (t) => {
  const good = Buffer.from('the signed body');
  t.is((await signed('PUT', `/s3/${BUCKET}/hashed`, { body: good }).send()).status, 200);
  const r = await signed('PUT', `/s3/${BUCKET}/hashed`, { body: good }).send(Buffer.from('the SIGNED body'));
  t.is(r.status, 400);
  t.is(xmlCode(r.body), 'XAmzContentSHA256Mismatch');
  t.is((await signed('GET', `/s3/${BUCKET}/hashed`).send()).body.toString(), 'the signed body');
  // Small bodies read by their own handlers: DeleteObjects.
  const xml = Buffer.from(`<Delete><Object><Key>hashed</Key></Object></Delete>`);
  const del = await signed('POST', `/s3/${BUCKET}`, { query: 'delete', body: xml }).send(Buffer.from(`<Delete><Object><Key>hashex</Key></Object></Delete>`));
  t.is(del.status, 400);
  t.is(xmlCode(del.body), 'XAmzContentSHA256Mismatch');
  t.is((await signed('GET', `/s3/${BUCKET}/hashed`).send()).status, 200);
});

/** An aws-chunked body signed chunk by chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]). */
function chunkedBody(seed: string, amzDate: string, data: Buffer, chunk: number, opts: { tamper?: boolean; trailer?: string } = {}): Buffer {
  const key = signingKey(SK, amzDate.slice(0, 8), 'us-east-1', 's3');
  const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
  let prev = seed;
  const out: Buffer[] = [];
  const pieces: Buffer[] = [];
  for (let off = 0; off < data.length; off += chunk) pieces.push(data.subarray(off, Math.min(off + chunk, data.length)));
  pieces.push(Buffer.alloc(0));
  pieces.forEach((piece, i) => {
    const sig = signHex(key, chunkStringToSign(amzDate, scope, prev, sha256Hex(piece)));
    prev = sig;
    const sent = opts.tamper && i === 1 ? Buffer.from(piece).fill(0x41, 0, 1) : piece;
    out.push(Buffer.from(`${piece.length.toString(16)};chunk-signature=${sig}\r\n`), sent);
    if (piece.length > 0) out.push(Buffer.from('\r\n'));
  });
  if (opts.trailer !== undefined) {
    const ts = signHex(key, trailerStringToSign(amzDate, scope, prev, opts.trailer + '\n'));
    out.push(Buffer.from(`${opts.trailer}\r\nx-amz-trailer-signature:${ts}\r\n\r\n`));
  } else out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

test('aws-chunked signed upload: the chain verifies; a tampered chunk fails with SignatureDoesNotMatch and stores nothing', async (t) => {
  const data = random(200_000);
  const mk = (opts: { tamper?: boolean } = {}) => {
    const s = signed('PUT', `/s3/${BUCKET}/chunked`, {
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length) },
    });
    return s.send(chunkedBody(s.sig, s.amzDate, data, 65536, opts));
  };
  const ok = await mk();
  t.is(ok.status, 200, ok.body.toString());
  t.is(sha256((await signed('GET', `/s3/${BUCKET}/chunked`).send()).body), sha256(data));
  const bad = await mk({ tamper: true });
  t.is(bad.status, 403);
  t.is(xmlCode(bad.body), 'SignatureDoesNotMatch');
  t.is(sha256((await signed('GET', `/s3/${BUCKET}/chunked`).send()).body), sha256(data));
  // A chunk signed with another seed (a replayed body) fails too.
  const s = signed('PUT', `/s3/${BUCKET}/chunked`, { payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5' } });
  const replay = await s.send(chunkedBody('0'.repeat(64), s.amzDate, Buffer.from('hello'), 65536));
  t.is(xmlCode(replay.body), 'SignatureDoesNotMatch');
});

test('aws-chunked with a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async (t) => {
  const data = Buffer.from('hello world');
  const send = (trailer: string) => {
    const s = signed('PUT', `/s3/${BUCKET}/trailer`, {
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length), 'x-amz-trailer': 'x-amz-checksum-crc32' },
    });
    return s.send(chunkedBody(s.sig, s.amzDate, data, 65536, { trailer }));
  };
  const ok = await send('x-amz-checksum-crc32:DUoRhQ==');
  t.is(ok.status, 200, ok.body.toString());
  // A trailer signed for one value and sent with another.
  const s = signed('PUT', `/s3/${BUCKET}/trailer`, {
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length), 'x-amz-trailer': 'x-amz-checksum-crc32' },
  });
  const body = chunkedBody(s.sig, s.amzDate, data, 65536, { trailer: 'x-amz-checksum-crc32:DUoRhQ==' });
  const bad = await s.send(Buffer.from(body.toString('latin1').replace('DUoRhQ==', 'AAAAAA=='), 'latin1'));
  t.is(bad.status, 403, bad.body.toString());
  t.is(xmlCode(bad.body), 'SignatureDoesNotMatch');
});

test('UploadPart: a signed aws-chunked part with a bad chunk signature fails and leaves no part', async (t) => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mpu-chunked' }));
  const data = random(100_000);
  const send = (tamper: boolean, part: number) => {
    const s = signed('PUT', `/s3/${BUCKET}/mpu-chunked`, {
      query: `partNumber=${part}&uploadId=${UploadId}`,
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(data.length) },
    });
    return s.send(chunkedBody(s.sig, s.amzDate, data, 65536, { tamper }));
  };
  const bad = await send(true, 1);
  t.is(bad.status, 403);
  t.is(xmlCode(bad.body), 'SignatureDoesNotMatch');
  const ok = await send(false, 2);
  t.is(ok.status, 200, ok.body.toString());
  const parts = await signed('GET', `/s3/${BUCKET}/mpu-chunked`, { query: `uploadId=${UploadId}` }).send();
  t.deepEqual([...parts.body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1]), ['2']);
});

test('S3-API-via-Root with keys: the SDK at the root endpoint signs and verifies', async (t) => {
  const root = await startNode({ name: 'auth-root', config: { features: ['S3-API-via-Root'], auth: { s3: { keys: { [AK]: SK } } } } });
  const c = new S3Client({ endpoint: root.url, forcePathStyle: true, region: 'ap-south-1', credentials: { accessKeyId: AK, secretAccessKey: SK }, maxAttempts: 1 });
  const bad = new S3Client({ endpoint: root.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: 'no' }, maxAttempts: 1 });
  try {
    await c.send(new CreateBucketCommand({ Bucket: 'rootb' }));
    await c.send(new PutObjectCommand({ Bucket: 'rootb', Key: 'k', Body: 'root' }));
    t.is(await (await c.send(new GetObjectCommand({ Bucket: 'rootb', Key: 'k' }))).Body!.transformToString(), 'root');
    t.is(await errCode(bad.send(new GetObjectCommand({ Bucket: 'rootb', Key: 'k' }))), 'SignatureDoesNotMatch');
    // Under /s3 on the same node, the SDK's full-path signing still verifies.
    const s = new S3Client({ endpoint: root.s3url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SK }, maxAttempts: 1 });
    t.is(await (await s.send(new GetObjectCommand({ Bucket: 'rootb', Key: 'k' }))).Body!.transformToString(), 'root');
    s.destroy();
  } finally {
    c.destroy();
    bad.destroy();
    await root.stop();
  }
});
