// S3 flexible checksums end to end: @aws-sdk/client-s3 at its DEFAULT settings (CRC32 on every PUT, aws-chunked
// trailers for streams, response validation on GET), every algorithm given explicitly, raw requests with wrong
// or malformed values, and multipart uploads with composite (CRC32, CRC32C, SHA256) and full-object (CRC64NVME)
// checksums. Expected values are computed here independently (zlib, node:crypto, bitwise CRCs).
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlCode, objPath, sha256, random, type AisNode } from './helpers/node';
import { getxattr, fsetxattr } from '../src/native';
import { decodeLom, encodeLom, LOM_XATTR } from '../src/fs/lom';

const MiB = 1 << 20;
let node: AisNode;
let s3: S3Client;
const B = 'flex';

test.before(async () => {
  node = await startNode({ name: 'checksums' });
  s3 = s3Client(node.url, { sdkDefaultChecksums: true });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

type Alg = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';
const ALGS: Alg[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const T64 = Array.from({ length: 256 }, (_, n) => {
  let c = BigInt(n);
  for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ 0x9a6c9329ac4bc9b5n : c >> 1n;
  return c;
});
function crc64nvme(data: Uint8Array): bigint {
  const mask = (1n << 64n) - 1n;
  let c = mask;
  for (const byte of data) c = T64[Number((c ^ BigInt(byte)) & 0xffn)]! ^ (c >> 8n);
  return c ^ mask;
}

/** Base64 checksum of `data` as S3 sends it (digest bytes, big-endian for the CRCs). */
function b64(alg: Alg, data: Uint8Array): string {
  switch (alg) {
    case 'crc32': {
      const o = Buffer.alloc(4);
      o.writeUInt32BE(zlib.crc32(data) >>> 0);
      return o.toString('base64');
    }
    case 'crc32c': {
      const o = Buffer.alloc(4);
      o.writeUInt32BE(crc32c(data));
      return o.toString('base64');
    }
    case 'crc64nvme': {
      const o = Buffer.alloc(8);
      o.writeBigUInt64BE(crc64nvme(data));
      return o.toString('base64');
    }
    case 'sha1':
    case 'sha256':
      return createHash(alg).update(data).digest('base64');
  }
}

const SDK_NAME: Record<Alg, ChecksumAlgorithm> = { crc32: 'CRC32', crc32c: 'CRC32C', crc64nvme: 'CRC64NVME', sha1: 'SHA1', sha256: 'SHA256' };
type Out = { ChecksumCRC32?: string; ChecksumCRC32C?: string; ChecksumCRC64NVME?: string; ChecksumSHA1?: string; ChecksumSHA256?: string; ChecksumType?: string };
function outChecksum(o: Out, alg: Alg): string | undefined {
  return { crc32: o.ChecksumCRC32, crc32c: o.ChecksumCRC32C, crc64nvme: o.ChecksumCRC64NVME, sha1: o.ChecksumSHA1, sha256: o.ChecksumSHA256 }[alg];
}

async function getBody(key: string, mode = true): Promise<{ body: Buffer; out: Out }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: B, Key: key, ...(mode ? { ChecksumMode: 'ENABLED' as const } : {}) }));
  return { body: Buffer.from(await out.Body!.transformToByteArray()), out };
}

test('SDK defaults, PUT of a buffer: CRC32 checked and stored, returned by PutObject, HEAD and GET (validated by the SDK)', async (t) => {
  const data = random(300_001);
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'buf', Body: data }));
  t.is(put.ChecksumCRC32, b64('crc32', data));
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'buf', ChecksumMode: 'ENABLED' }));
  t.is(head.ChecksumCRC32, b64('crc32', data));
  t.is(head.ChecksumType, 'FULL_OBJECT');
  const { body, out } = await getBody('buf');
  t.is(sha256(body), sha256(data));
  t.is(out.ChecksumCRC32, b64('crc32', data));
  // Without x-amz-checksum-mode nothing is returned (raw: the SDK at its defaults asks for it on every GET).
  const raw = await request(node.url, { method: 'HEAD', path: objPath(B, 'buf') });
  t.is(raw.headers['x-amz-checksum-crc32'], undefined);
  const rawOn = await request(node.url, { method: 'HEAD', path: objPath(B, 'buf'), headers: { 'x-amz-checksum-mode': 'ENABLED' } });
  t.is(rawOn.headers['x-amz-checksum-crc32'], b64('crc32', data));
  t.is(rawOn.headers['x-amz-checksum-type'], 'FULL_OBJECT');
  // A range is not the object: no checksum for it.
  const range = await request(node.url, { method: 'GET', path: objPath(B, 'buf'), headers: { 'x-amz-checksum-mode': 'ENABLED', Range: 'bytes=0-99' } });
  t.is(range.status, 206);
  t.is(range.headers['x-amz-checksum-crc32'], undefined);
});

test('SDK defaults, PUT of a stream (aws-chunked with a CRC32 trailer), 9 MiB: stored, GET validated', async (t) => {
  const data = random(9 * MiB + 7);
  const pieces = [data.subarray(0, 3 * MiB), data.subarray(3 * MiB, 8 * MiB), data.subarray(8 * MiB)];
  const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'stream', Body: Readable.from(pieces), ContentLength: data.length }));
  t.is(put.ChecksumCRC32, b64('crc32', data));
  const { body, out } = await getBody('stream');
  t.is(sha256(body), sha256(data));
  t.is(out.ChecksumCRC32, b64('crc32', data));
});

for (const alg of ALGS) {
  test(`SDK with ChecksumAlgorithm ${SDK_NAME[alg]}: buffer and stream, value stored and validated on GET`, async (t) => {
    const data = random(1_234_567);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: `alg-${alg}`, Body: data, ChecksumAlgorithm: SDK_NAME[alg] }));
    t.is(outChecksum(put, alg), b64(alg, data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: `alg-${alg}`, ChecksumMode: 'ENABLED' }));
    t.is(outChecksum(head, alg), b64(alg, data));
    const got = await getBody(`alg-${alg}`);
    t.is(sha256(got.body), sha256(data));
    const put2 = await s3.send(
      new PutObjectCommand({ Bucket: B, Key: `alg-${alg}-s`, Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]), ContentLength: data.length, ChecksumAlgorithm: SDK_NAME[alg] }),
    );
    t.is(outChecksum(put2, alg), b64(alg, data));
    t.is(outChecksum((await getBody(`alg-${alg}-s`)).out, alg), b64(alg, data));
  });

  test(`raw PUT with a wrong x-amz-checksum-${alg} (header and trailer): 400 BadDigest, old object intact`, async (t) => {
    const key = `wrong-${alg}`;
    const old = random(5000);
    const ok = await request(node.url, { method: 'PUT', path: objPath(B, key), body: old, headers: { [`x-amz-checksum-${alg}`]: b64(alg, old) } });
    t.is(ok.status, 200, ok.body.toString());
    t.is(ok.headers[`x-amz-checksum-${alg}`], b64(alg, old));
    const data = random(2 * MiB + 3);
    const bad = await request(node.url, { method: 'PUT', path: objPath(B, key), body: data, headers: { [`x-amz-checksum-${alg}`]: b64(alg, old) } });
    t.is(bad.status, 400);
    t.is(xmlCode(bad.body), 'BadDigest');
    t.true(bad.body.toString().includes(`The ${alg.toUpperCase()} you specified did not match the calculated checksum.`), bad.body.toString());
    const frame = (v: string): Buffer =>
      Buffer.concat([Buffer.from(`${(100_000).toString(16)}\r\n`), data.subarray(0, 100_000), Buffer.from(`\r\n0\r\nx-amz-checksum-${alg}:${v}\r\n\r\n`)]);
    const chunked = {
      'Content-Encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': '100000',
      'x-amz-trailer': `x-amz-checksum-${alg}`,
      'x-amz-sdk-checksum-algorithm': SDK_NAME[alg],
    };
    const badT = await request(node.url, { method: 'PUT', path: objPath(B, key), body: frame(b64(alg, old)), headers: chunked });
    t.is(badT.status, 400);
    t.is(xmlCode(badT.body), 'BadDigest');
    const cur = await request(node.url, { method: 'GET', path: objPath(B, key) });
    t.is(sha256(cur.body), sha256(old));
    const goodT = await request(node.url, { method: 'PUT', path: objPath(B, key), body: frame(b64(alg, data.subarray(0, 100_000))), headers: chunked });
    t.is(goodT.status, 200, goodT.body.toString());
    const head = await request(node.url, { method: 'HEAD', path: objPath(B, key), headers: { 'x-amz-checksum-mode': 'enabled' } });
    t.is(head.headers[`x-amz-checksum-${alg}`], b64(alg, data.subarray(0, 100_000)));
  });
}

test('malformed values, unknown algorithms, two checksum headers, a missing trailer: 400 InvalidRequest, nothing stored', async (t) => {
  const data = Buffer.from('hello');
  const cases: Record<string, string>[] = [
    { 'x-amz-checksum-crc32': 'not base64!' },
    { 'x-amz-checksum-crc32': Buffer.alloc(8).toString('base64') }, // wrong length
    { 'x-amz-checksum-sha256': b64('sha1', data) },
    { 'x-amz-sdk-checksum-algorithm': 'MD5' },
    { 'x-amz-checksum-crc32': b64('crc32', data), 'x-amz-checksum-crc32c': b64('crc32c', data) },
    { 'x-amz-checksum-crc32': b64('crc32', data), 'x-amz-sdk-checksum-algorithm': 'SHA256' },
  ];
  for (const [i, headers] of cases.entries()) {
    const r = await request(node.url, { method: 'PUT', path: objPath(B, `malformed-${i}`), body: data, headers });
    t.is(r.status, 400, JSON.stringify(headers));
    t.is(xmlCode(r.body), 'InvalidRequest', JSON.stringify(headers));
    t.is((await request(node.url, { method: 'HEAD', path: objPath(B, `malformed-${i}`) })).status, 404);
  }
  const chunked = { 'Content-Encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '5' };
  const body = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
  for (const trailer of ['x-amz-checksum-md5', 'x-amz-checksum-crc32']) {
    const r = await request(node.url, { method: 'PUT', path: objPath(B, 'no-trailer'), body, headers: { ...chunked, 'x-amz-trailer': trailer } });
    t.is(r.status, 400, trailer);
    t.is(xmlCode(r.body), 'InvalidRequest', trailer);
  }
  t.is((await request(node.url, { method: 'HEAD', path: objPath(B, 'no-trailer') })).status, 404);
  // x-amz-sdk-checksum-algorithm alone: computed and stored, nothing to check.
  const r = await request(node.url, { method: 'PUT', path: objPath(B, 'sdk-alg-only'), body: data, headers: { 'x-amz-sdk-checksum-algorithm': 'CRC64NVME' } });
  t.is(r.status, 200);
  t.is(r.headers['x-amz-checksum-crc64nvme'], b64('crc64nvme', data));
});

/** Composite S3 checksum: the checksum of the concatenated binary part checksums, "-N". */
function composite(alg: Alg, parts: Buffer[]): string {
  return `${b64(alg, Buffer.concat(parts.map((p) => Buffer.from(b64(alg, p), 'base64'))))}-${parts.length}`;
}

for (const alg of ['crc32', 'crc32c', 'sha256'] as const) {
  test(`multipart with ChecksumAlgorithm ${SDK_NAME[alg]}: parts checked, ListParts shows them, composite "-N" on HEAD/GET`, async (t) => {
    const key = `mpu-${alg}`;
    const parts = [random(5 * MiB), random(5 * MiB + 17), random(1000)];
    const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: SDK_NAME[alg] }));
    t.is(c.ChecksumAlgorithm, SDK_NAME[alg]);
    const done = [];
    for (const [i, body] of parts.entries()) {
      const up = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: c.UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: SDK_NAME[alg] }));
      t.is(outChecksum(up, alg), b64(alg, body));
      done.push({ PartNumber: i + 1, ETag: up.ETag, [`Checksum${alg.toUpperCase()}`]: outChecksum(up, alg) });
    }
    const lp = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: c.UploadId }));
    t.deepEqual(
      lp.Parts!.map((p) => outChecksum(p, alg)),
      parts.map((p) => b64(alg, p)),
    );
    t.is(lp.ChecksumAlgorithm, SDK_NAME[alg]);
    // A listed part checksum that is not the part's: InvalidPart, nothing completed.
    const wrong = done.map((p, i) => (i === 1 ? { ...p, [`Checksum${alg.toUpperCase()}`]: b64(alg, Buffer.from('x')) } : p));
    const e = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: c.UploadId, MultipartUpload: { Parts: wrong } })).catch((err: Error) => err);
    t.is((e as Error).name, 'InvalidPart');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: c.UploadId, MultipartUpload: { Parts: done } }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
    t.is(outChecksum(head, alg), composite(alg, parts));
    t.is(head.ChecksumType, 'COMPOSITE');
    const got = await getBody(key); // the SDK skips validating composite values
    t.is(sha256(got.body), sha256(Buffer.concat(parts)));
    t.is(outChecksum(got.out, alg), composite(alg, parts));
  });
}

test('multipart CRC64NVME: full-object checksum (as a single PUT of the same bytes), validated by the SDK on GET', async (t) => {
  const key = 'mpu-crc64';
  const parts = [random(5 * MiB + 1), random(777)];
  const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: 'CRC64NVME' }));
  t.is(c.ChecksumType, 'FULL_OBJECT');
  const done = [];
  for (const [i, body] of parts.entries()) {
    const up = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: c.UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC64NVME' }));
    t.is(up.ChecksumCRC64NVME, b64('crc64nvme', body));
    done.push({ PartNumber: i + 1, ETag: up.ETag, ChecksumCRC64NVME: up.ChecksumCRC64NVME });
  }
  // A wrong full-object value sent with Complete: BadDigest, the upload stays.
  const bad = await request(node.url, {
    method: 'POST',
    path: `${objPath(B, key)}?uploadId=${c.UploadId}`,
    headers: { 'x-amz-checksum-crc64nvme': b64('crc64nvme', parts[0]!) },
    body: `<CompleteMultipartUpload>${done.map((p) => `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${p.ETag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`,
  });
  t.is(xmlCode(bad.body), 'BadDigest', bad.body.toString());
  t.is((await request(node.url, { method: 'HEAD', path: objPath(B, key) })).status, 404);
  const whole = Buffer.concat(parts);
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: c.UploadId, MultipartUpload: { Parts: done }, ChecksumCRC64NVME: b64('crc64nvme', whole), ChecksumType: 'FULL_OBJECT' }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
  t.is(head.ChecksumCRC64NVME, b64('crc64nvme', whole));
  t.is(head.ChecksumType, 'FULL_OBJECT');
  const got = await getBody(key);
  t.is(sha256(got.body), sha256(whole));
});

test('multipart: a part with a wrong checksum is BadDigest; a part of another algorithm is InvalidRequest', async (t) => {
  const key = 'mpu-badpart';
  const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: 'CRC32C' }));
  const body = random(10_000);
  const path = `${objPath(B, key)}?partNumber=1&uploadId=${c.UploadId}`;
  const bad = await request(node.url, { method: 'PUT', path, body, headers: { 'x-amz-checksum-crc32c': b64('crc32c', Buffer.from('x')) } });
  t.is(bad.status, 400);
  t.is(xmlCode(bad.body), 'BadDigest');
  const other = await request(node.url, { method: 'PUT', path, body, headers: { 'x-amz-checksum-sha256': b64('sha256', body) } });
  t.is(other.status, 400);
  t.is(xmlCode(other.body), 'InvalidRequest');
  // No checksum sent: computed with the upload's algorithm.
  const plain = await request(node.url, { method: 'PUT', path, body });
  t.is(plain.status, 200);
  t.is(plain.headers['x-amz-checksum-crc32c'], b64('crc32c', body));
  // Complete without the part checksums of a composite upload: InvalidRequest, as S3.
  const r = await request(node.url, {
    method: 'POST',
    path: `${objPath(B, key)}?uploadId=${c.UploadId}`,
    body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${plain.headers.etag}</ETag></Part></CompleteMultipartUpload>`,
  });
  t.is(xmlCode(r.body), 'InvalidRequest');
  const unknown = await request(node.url, { method: 'POST', path: `${objPath(B, 'mpu-x')}?uploads`, headers: { 'x-amz-checksum-algorithm': 'MD5' } });
  t.is(unknown.status, 400);
  t.is(xmlCode(unknown.body), 'InvalidRequest');
});

test('multipart CRC32 with ChecksumType FULL_OBJECT: the whole object\'s CRC32, validated by the SDK on GET', async (t) => {
  const key = 'mpu-crc32-full';
  const parts = [random(5 * MiB + 3), random(4321)];
  const c = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }));
  t.is(c.ChecksumType, 'FULL_OBJECT');
  const done = [];
  for (const [i, body] of parts.entries()) {
    const up = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: c.UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: 'CRC32' }));
    done.push({ PartNumber: i + 1, ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32 });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: c.UploadId, MultipartUpload: { Parts: done } }));
  const whole = Buffer.concat(parts);
  const got = await getBody(key);
  t.is(got.out.ChecksumCRC32, b64('crc32', whole));
  t.is(got.out.ChecksumType, 'FULL_OBJECT');
  t.is(sha256(got.body), sha256(whole));
});

test('the SDK really validates what GET returns: a stored checksum altered on disk fails the SDK GET', async (t) => {
  const data = random(200_000);
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'tampered', Body: data }));
  const file = node.dirs.mountpaths.map((mp) => path.join(mp, '@ais', B, '%ob', 'tampered')).find((f) => fs.existsSync(f))!;
  const lom = decodeLom(getxattr(file, LOM_XATTR)!);
  lom.flex = { ...lom.flex!, value: b64('crc32', Buffer.from('something else')) };
  const fd = fs.openSync(file, 'r');
  try {
    fsetxattr(fd, LOM_XATTR, encodeLom(lom));
  } finally {
    fs.closeSync(fd);
  }
  const err = await getBody('tampered').catch((e: Error) => e);
  t.true(err instanceof Error, 'the SDK accepted a body that does not match the returned checksum');
  t.regex((err as Error).message, /[Cc]hecksum/);
});
