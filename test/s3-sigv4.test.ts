// SigV4 against the AWS documentation's published examples (S3 API reference: "Examples: Signature
// Calculations" for the GET object with Range, "Authenticating Requests: Using Query Parameters" for
// the presigned URL, "Transferring Payload in Multiple Chunks" for the seed and chunk signatures),
// and authenticateS3's policy (errors, skew, expiry, the s3cmd /s3 form) on synthetic requests.
import test from 'ava';
import type { Req } from '../src/api/http';
import { defaultClusterConfig, type ClusterConfig } from '../src/cluster/config';
import { authenticateS3, authOf } from '../src/s3/auth';
import { AwsChunkedDecoder } from '../src/s3/aws-chunked';
import { S3Error } from '../src/s3/errors';
import {
  canonicalQuery,
  canonicalRequest,
  chunkStringToSign,
  EMPTY_SHA256,
  presignQuery,
  sha256Hex,
  signHex,
  signingKey,
  signRequest,
  stringToSign,
  trailerStringToSign,
  uriEncode,
} from '../src/s3/sigv4';
import { ChunkSignatureVerifier, chunkVerifier } from '../src/s3/sigv4-stream';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DATE = '20130524T000000Z';
const T0 = Date.UTC(2013, 4, 24);
const SCOPE = '20130524/us-east-1/s3/aws4_request';

function conf(keys: Record<string, string> = { [AK]: SK }): ClusterConfig {
  return { ...defaultClusterConfig(), auth: { s3: { keys, max_skew_s: 900 } } };
}

function req(method: string, url: string, query: string, headers: Record<string, string>): Req {
  return { method, url, query, headers, aborted: false, id: 'T' };
}

function code(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
  return 'ok';
}

// ---------------------------------------------------------------- the documentation's examples

const GET_HEADERS = {
  host: 'examplebucket.s3.amazonaws.com',
  range: 'bytes=0-9',
  'x-amz-content-sha256': EMPTY_SHA256,
  'x-amz-date': DATE,
};
const GET_SIGNATURE = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';

test('GET object example: canonical request, string to sign and signature', (t) => {
  const creq = canonicalRequest({
    method: 'GET',
    path: '/test.txt',
    query: '',
    signedHeaders: ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
    header: (n) => GET_HEADERS[n as keyof typeof GET_HEADERS] ?? '',
    payloadHash: EMPTY_SHA256,
  });
  t.is(
    creq,
    'GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n' +
      `x-amz-content-sha256:${EMPTY_SHA256}\nx-amz-date:${DATE}\n\nhost;range;x-amz-content-sha256;x-amz-date\n${EMPTY_SHA256}`,
  );
  const sts = stringToSign(DATE, SCOPE, creq);
  t.is(sts, `AWS4-HMAC-SHA256\n${DATE}\n${SCOPE}\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972`);
  t.is(signHex(signingKey(SK, '20130524', 'us-east-1', 's3'), sts), GET_SIGNATURE);
  const s = signRequest({ method: 'GET', path: '/test.txt', headers: GET_HEADERS, payloadHash: EMPTY_SHA256, accessKey: AK, secret: SK, region: 'us-east-1', amzDate: DATE });
  t.is(s.authorization, `AWS4-HMAC-SHA256 Credential=${AK}/${SCOPE}, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=${GET_SIGNATURE}`);
});

test('GET object example verifies through authenticateS3; a changed header or secret does not', (t) => {
  const authorization = `AWS4-HMAC-SHA256 Credential=${AK}/${SCOPE},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=${GET_SIGNATURE}`;
  const r = req('GET', '/test.txt', '', { ...GET_HEADERS, authorization });
  t.is(code(() => authenticateS3(conf(), r, '/test.txt', T0 + 60_000)), 'ok');
  t.is(authOf(r)?.accessKey, AK);
  t.is(code(() => authenticateS3(conf(), req('GET', '/test.txt', '', { ...GET_HEADERS, range: 'bytes=0-10', authorization }), '/test.txt', T0)), 'SignatureDoesNotMatch');
  t.is(code(() => authenticateS3(conf({ [AK]: SK + 'x' }), r, '/test.txt', T0)), 'SignatureDoesNotMatch');
  t.is(code(() => authenticateS3(conf({ other: SK }), r, '/test.txt', T0)), 'InvalidAccessKeyId');
  // Header values are trimmed and inner runs of spaces collapse.
  t.is(code(() => authenticateS3(conf(), req('GET', '/test.txt', '', { ...GET_HEADERS, range: '  bytes=0-9 ', authorization }), '/test.txt', T0)), 'ok');
});

test('presigned URL example from the S3 documentation', (t) => {
  const q = presignQuery({ method: 'GET', path: '/test.txt', host: 'examplebucket.s3.amazonaws.com', accessKey: AK, secret: SK, region: 'us-east-1', amzDate: DATE, expires: 86400 });
  t.is(
    q,
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z' +
      '&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  );
  const r = req('GET', '/test.txt', q, { host: 'examplebucket.s3.amazonaws.com' });
  t.is(code(() => authenticateS3(conf(), r, '/test.txt', T0 + 3600_000)), 'ok');
  t.is(authOf(r)?.contentSha256, '');
  // Expired one second after X-Amz-Date + X-Amz-Expires; not valid yet well before X-Amz-Date.
  const expired = (): void => authenticateS3(conf(), r, '/test.txt', T0 + 86401_000);
  t.is(code(expired), 'AccessDenied');
  t.throws(expired, { message: 'Request has expired' });
  t.is(code(() => authenticateS3(conf(), r, '/test.txt', T0 - 3600_000)), 'AccessDenied');
  // A changed parameter breaks it; the signature itself is left out of the canonical query.
  t.is(code(() => authenticateS3(conf(), req('GET', '/test.txt', q.replace('86400', '86401'), { host: 'examplebucket.s3.amazonaws.com' }), '/test.txt', T0)), 'SignatureDoesNotMatch');
  t.is(code(() => authenticateS3(conf(), req('GET', '/test.txt', q.replace('86400', '604801'), { host: 'h' }), '/test.txt', T0)), 'AuthorizationHeaderMalformed');
});

const CHUNK_HEADERS = {
  'content-encoding': 'aws-chunked',
  'content-length': '66824',
  host: 's3.amazonaws.com',
  'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'x-amz-date': DATE,
  'x-amz-decoded-content-length': '66560',
  'x-amz-storage-class': 'REDUCED_REDUNDANCY',
};
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const CHUNK_SIGS = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];

function exampleBody(sigs = CHUNK_SIGS, tamper = false): Buffer {
  const c1 = Buffer.alloc(65536, 'a');
  const c2 = Buffer.alloc(1024, 'a');
  if (tamper) c2[100] = 0x62;
  return Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    c1,
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    c2,
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n\r\n`),
  ]);
}

test('chunked upload example: seed signature and chunk signatures', (t) => {
  const s = signRequest({ method: 'PUT', path: '/examplebucket/chunkObject.txt', headers: CHUNK_HEADERS, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', accessKey: AK, secret: SK, region: 'us-east-1', amzDate: DATE });
  t.is(s.signature, SEED);
  const key = signingKey(SK, '20130524', 'us-east-1', 's3');
  const s1 = signHex(key, chunkStringToSign(DATE, SCOPE, SEED, sha256Hex(Buffer.alloc(65536, 'a'))));
  t.is(s1, CHUNK_SIGS[0]);
  const s2 = signHex(key, chunkStringToSign(DATE, SCOPE, s1, sha256Hex(Buffer.alloc(1024, 'a'))));
  t.is(s2, CHUNK_SIGS[1]);
  t.is(signHex(key, chunkStringToSign(DATE, SCOPE, s2, EMPTY_SHA256)), CHUNK_SIGS[2]);
  // The body's content-length in the example is exactly this framing.
  t.is(exampleBody().length, 66824);
});

function runChunked(body: Buffer, piece: number, verifier: ChunkSignatureVerifier): number {
  let n = 0;
  const dec = new AwsChunkedDecoder({
    onData: (d) => {
      verifier.onData(d);
      n += d.length;
    },
    onChunkSignature: (sig, size) => verifier.onChunkSignature(sig, size),
  });
  for (let i = 0; i < body.length; i += piece) dec.push(body.subarray(i, i + piece));
  dec.end();
  verifier.end(dec.trailers);
  return n;
}

test('the chunk-signature chain of the example verifies as it streams (any piece size), tampering fails', (t) => {
  const authorization = signRequest({ method: 'PUT', path: '/examplebucket/chunkObject.txt', headers: CHUNK_HEADERS, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', accessKey: AK, secret: SK, region: 'us-east-1', amzDate: DATE }).authorization;
  const r = req('PUT', '/examplebucket/chunkObject.txt', '', { ...CHUNK_HEADERS, authorization });
  t.is(code(() => authenticateS3(conf(), r, '/examplebucket/chunkObject.txt', T0)), 'ok');
  for (const piece of [1, 7, 4096, 1 << 20]) t.is(runChunked(exampleBody(), piece, chunkVerifier(r)!), 66560);
  t.is(code(() => runChunked(exampleBody(CHUNK_SIGS, true), 4096, chunkVerifier(r)!)), 'SignatureDoesNotMatch');
  t.is(code(() => runChunked(exampleBody([CHUNK_SIGS[0]!, CHUNK_SIGS[0]!, CHUNK_SIGS[2]!]), 4096, chunkVerifier(r)!)), 'SignatureDoesNotMatch');
  // The final chunk is signed too: a wrong final signature fails.
  t.is(code(() => runChunked(exampleBody([CHUNK_SIGS[0]!, CHUNK_SIGS[1]!, CHUNK_SIGS[0]!]), 4096, chunkVerifier(r)!)), 'SignatureDoesNotMatch');
  // An unsigned chunk in a signed stream fails.
  const unsigned = Buffer.from(exampleBody().toString('latin1').replace(`;chunk-signature=${CHUNK_SIGS[1]}`, ''), 'latin1');
  t.is(code(() => runChunked(unsigned, 4096, chunkVerifier(r)!)), 'SignatureDoesNotMatch');
});

test('trailer signature: signed over the final chunk signature and the trailing header lines', (t) => {
  const key = signingKey(SK, '20130524', 'us-east-1', 's3');
  const data = Buffer.from('hello world');
  const s1 = signHex(key, chunkStringToSign(DATE, SCOPE, SEED, sha256Hex(data)));
  const s0 = signHex(key, chunkStringToSign(DATE, SCOPE, s1, EMPTY_SHA256));
  const trailer = 'x-amz-checksum-crc32:DUoRhQ==';
  const ts = signHex(key, trailerStringToSign(DATE, SCOPE, s0, trailer + '\n'));
  const body = (sig: string, crc = 'DUoRhQ=='): Buffer =>
    Buffer.from(`b;chunk-signature=${s1}\r\nhello world\r\n0;chunk-signature=${s0}\r\nx-amz-checksum-crc32:${crc}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`);
  const v = (): ChunkSignatureVerifier => new ChunkSignatureVerifier({ signingKey: key, amzDate: DATE, scope: SCOPE, signature: SEED }, true);
  t.is(runChunked(body(ts), 5, v()), 11);
  t.is(code(() => runChunked(body(ts, 'AAAAAA=='), 5, v())), 'SignatureDoesNotMatch');
  t.is(code(() => runChunked(body('0'.repeat(64)), 5, v())), 'SignatureDoesNotMatch');
});

// ---------------------------------------------------------------- canonicalization

test('canonical query: sorted by name then value, RFC 3986 encoded, signature left out', (t) => {
  t.is(canonicalQuery(''), '');
  t.is(canonicalQuery('uploads'), 'uploads=');
  t.is(canonicalQuery('prefix=a%20b&list-type=2&delimiter=%2F'), 'delimiter=%2F&list-type=2&prefix=a%20b');
  t.is(canonicalQuery('b=2&a=3&a=1'), 'a=1&a=3&b=2');
  t.is(canonicalQuery('k=~x!*(\'&X-Amz-Signature=abc', 'X-Amz-Signature'), 'k=~x%21%2A%28%27');
  t.is(canonicalQuery('k=%c3%a9'), 'k=%C3%A9');
  t.is(uriEncode('a b/ü', true), 'a%20b/%C3%BC');
});

// ---------------------------------------------------------------- policy

function signedGet(path: string, host: string, opts: { date?: string; secret?: string; ak?: string } = {}): Req {
  const headers = { host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': opts.date ?? DATE };
  const s = signRequest({ method: 'GET', path, headers, payloadHash: EMPTY_SHA256, accessKey: opts.ak ?? AK, secret: opts.secret ?? SK, region: 'eu-west-3', amzDate: opts.date ?? DATE });
  return req('GET', path, '', { ...headers, authorization: s.authorization });
}

test('off by default: no keys, anything passes (no signature, a bad one)', (t) => {
  t.is(code(() => authenticateS3(defaultClusterConfig(), req('GET', '/s3/b', '', {}), '/b', T0)), 'ok');
  t.is(code(() => authenticateS3(defaultClusterConfig(), signedGet('/s3/b', 'h', { secret: 'nope' }), '/b', T0)), 'ok');
});

test('errors: no auth, skew, malformed header, v2 signature, any region', (t) => {
  t.is(code(() => authenticateS3(conf(), req('GET', '/s3/b', '', { host: 'h' }), '/b', T0)), 'AccessDenied');
  // A SigV2 presigned URL (boto3 presigns with SigV2 unless told signature_version='s3v4').
  t.is(code(() => authenticateS3(conf(), req('GET', '/s3/b/k', 'AWSAccessKeyId=AK&Signature=abc%3D&Expires=1', { host: 'h' }), '/b/k', T0)), 'InvalidRequest');
  t.is(code(() => authenticateS3(conf(), signedGet('/s3/b', 'h'), '/b', T0 + 899_000)), 'ok');
  t.is(code(() => authenticateS3(conf(), signedGet('/s3/b', 'h'), '/b', T0 + 901_000)), 'RequestTimeTooSkewed');
  t.is(code(() => authenticateS3(conf(), signedGet('/s3/b', 'h'), '/b', T0 - 901_000)), 'RequestTimeTooSkewed');
  const bad = (authorization: string): string => code(() => authenticateS3(conf(), req('GET', '/s3/b', '', { host: 'h', 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': DATE, authorization }), '/b', T0));
  t.is(bad('AWS4-HMAC-SHA256 Credential=x'), 'AuthorizationHeaderMalformed');
  t.is(bad(`AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3, SignedHeaders=host, Signature=${'0'.repeat(64)}`), 'AuthorizationHeaderMalformed');
  t.is(bad(`AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`), 'AuthorizationHeaderMalformed');
  t.is(bad(`AWS4-HMAC-SHA256 Credential=${AK}/20130525/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`), 'AuthorizationHeaderMalformed');
  t.is(bad(`AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=${'0'.repeat(64)}`), 'AuthorizationHeaderMalformed');
  t.is(bad(`AWS ${AK}:abc=`), 'InvalidRequest');
  t.is(bad(`AWS4-HMAC-SHA256 Credential=nobody/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`), 'InvalidAccessKeyId');
  t.is(bad(`AWS4-HMAC-SHA256 Credential=${AK}/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`), 'SignatureDoesNotMatch');
});

test('the /s3 prefix: SDKs sign the full path; s3cmd signs the path without /s3 and host+"/s3"', (t) => {
  // SDK with endpoint http://h:8080/s3: signs what it sends.
  t.is(code(() => authenticateS3(conf(), signedGet('/s3/bkt/k%20x', '127.0.0.1:8080'), '/bkt/k%20x', T0)), 'ok');
  // s3cmd with host_base = 127.0.0.1:8080/s3: signed /bkt/k and host 127.0.0.1:8080/s3, sends /s3/bkt/k and Host 127.0.0.1:8080.
  const s = signedGet('/bkt/k', '127.0.0.1:8080/s3');
  const sent = req('GET', '/s3/bkt/k', '', { ...s.headers, host: '127.0.0.1:8080' });
  t.is(code(() => authenticateS3(conf(), sent, '/bkt/k', T0)), 'ok');
  // Without the prefix (S3-API-via-Root) only the as-received form applies.
  const root = req('GET', '/bkt/k', '', { ...s.headers, host: '127.0.0.1:8080' });
  t.is(code(() => authenticateS3(conf(), root, '/bkt/k', T0)), 'SignatureDoesNotMatch');
  // The SignatureDoesNotMatch body carries the canonical request we computed (as received).
  try {
    authenticateS3(conf(), root, '/bkt/k', T0);
  } catch (err) {
    t.regex((err as S3Error).extra?.CanonicalRequest ?? '', /^GET\n\/bkt\/k\n\nhost:127\.0\.0\.1:8080\n/);
  }
});
