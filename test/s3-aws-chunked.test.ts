import { createHash } from 'node:crypto';

import test from 'ava';

import {
  AwsChunkedDecoder,
  AwsChunkedError,
  checkDecodedLength,
  isAwsChunked,
  parseDecodedContentLength,
  streamingPayloadKind,
  stripAwsChunked,
  type AwsChunkedErrorCode,
  type AwsChunkedSink,
} from '../src/s3/aws-chunked';
import { S3Error } from '../src/s3/errors';

// ---------------------------------------------------------------------------------------------
// Test-only encoder of the aws-chunked framing, written from the S3 API reference (SigV4 chunked
// upload and trailing headers). Signatures are deterministic stand-ins: the decoder reports them
// and never verifies them, so only their shape and order matter here.

type SigMode = 'none' | 'hmac' | 'ecdsa';

interface EncodeOpts {
  chunkSize: number;
  sig: SigMode;
  trailers?: ReadonlyArray<readonly [string, string]>;
  trailerSignature?: boolean;
}

interface Encoded {
  body: Uint8Array;
  sigs: Array<[string | undefined, number]>;
  trailers: Map<string, string>;
}

function fakeSignature(mode: SigMode, i: number): string | undefined {
  if (mode === 'none') return undefined;
  if (mode === 'hmac') return createHash('sha256').update(`chunk ${i}`).digest('hex'); // 64 hex
  // SigV4a signatures are hex DER, longer and variable; some SDKs pad them with '*' to 144.
  return createHash('sha512').update(`chunk ${i}`).digest('hex') + 'ab'.repeat(i % 5) + '*'.repeat(8);
}

function encode(payload: Uint8Array, o: EncodeOpts): Encoded {
  const parts: Uint8Array[] = [];
  const sigs: Array<[string | undefined, number]> = [];
  const header = (size: number, i: number): void => {
    const sig = fakeSignature(o.sig, i);
    sigs.push([sig, size]);
    parts.push(Buffer.from(size.toString(16) + (sig === undefined ? '' : ';chunk-signature=' + sig) + '\r\n', 'latin1'));
  };
  let i = 0;
  for (let off = 0; off < payload.length; off += o.chunkSize, i++) {
    const data = payload.subarray(off, Math.min(payload.length, off + o.chunkSize));
    header(data.length, i);
    parts.push(data, Buffer.from('\r\n'));
  }
  header(0, i);
  const trailers = new Map<string, string>();
  let t = '';
  for (const [name, value] of o.trailers ?? []) {
    t += `${name}:${value}\r\n`;
    trailers.set(name.toLowerCase(), value);
  }
  if (o.trailerSignature === true) {
    const ts = createHash('sha256').update('trailer').digest('hex');
    t += `x-amz-trailer-signature:${ts}\r\n`;
    trailers.set('x-amz-trailer-signature', ts);
  }
  parts.push(Buffer.from(t + '\r\n', 'latin1'));
  return { body: Buffer.concat(parts), sigs, trailers };
}

// Small deterministic PRNG (xorshift32): reproducible boundaries without a dependency.
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

function makePayload(size: number, seed: number): Uint8Array {
  const p = new Uint8Array(size);
  const r = rng(seed);
  for (let i = 0; i < size; i++) p[i] = (r() * 256) | 0;
  return p;
}

// The sink checks on the fly instead of collecting: data must match `expected` at the running
// offset, and each view must lie inside the piece being pushed (zero copy).
class CheckingSink implements AwsChunkedSink {
  offset = 0;
  mismatch: string | undefined;
  sigs: Array<[string | undefined, number]> = [];
  current: Uint8Array | undefined;
  constructor(readonly expected: Uint8Array) {}
  onData(data: Uint8Array): void {
    if (this.mismatch !== undefined) return;
    const cur = this.current!;
    if (data.buffer !== cur.buffer || data.byteOffset < cur.byteOffset || data.byteOffset + data.length > cur.byteOffset + cur.length) {
      this.mismatch = `view not inside the pushed piece at offset ${this.offset}`;
      return;
    }
    if (data.length === 0) this.mismatch = 'empty onData call';
    else if (this.offset + data.length > this.expected.length) this.mismatch = `too many bytes at ${this.offset}`;
    else if (Buffer.compare(data, this.expected.subarray(this.offset, this.offset + data.length)) !== 0) this.mismatch = `bytes differ near ${this.offset}`;
    this.offset += data.length;
  }
  onChunkSignature(signature: string | undefined, size: number): void {
    this.sigs.push([signature, size]);
  }
}

// Decodes `body` cut at `cuts` (ascending offsets); each piece is copied into its own buffer, as
// uWebSockets.js hands over separate ArrayBuffers. Returns a description of the first problem.
function decodeCut(enc: Encoded, payload: Uint8Array, cuts: readonly number[]): string | undefined {
  const sink = new CheckingSink(payload);
  const dec = new AwsChunkedDecoder(sink);
  let prev = 0;
  for (const c of [...cuts, enc.body.length]) {
    const piece = enc.body.slice(prev, c);
    sink.current = piece;
    dec.push(piece);
    prev = c;
    if (sink.mismatch !== undefined) return sink.mismatch;
  }
  dec.end();
  return verify(dec, sink, enc, payload);
}

function verify(dec: AwsChunkedDecoder, sink: CheckingSink, enc: Encoded, payload: Uint8Array): string | undefined {
  if (sink.mismatch !== undefined) return sink.mismatch;
  if (!dec.done) return 'not done';
  if (sink.offset !== payload.length || dec.decodedBytes !== payload.length) return `decoded ${sink.offset}/${dec.decodedBytes}, want ${payload.length}`;
  if (JSON.stringify(sink.sigs) !== JSON.stringify(enc.sigs)) return 'signatures differ';
  if (JSON.stringify([...dec.trailers]) !== JSON.stringify([...enc.trailers])) return `trailers differ: ${JSON.stringify([...dec.trailers])}`;
  return undefined;
}

function decodePieces(enc: Encoded, payload: Uint8Array, pieceSize: () => number): string | undefined {
  const cuts: number[] = [];
  for (let c = pieceSize(); c < enc.body.length; c += pieceSize()) cuts.push(c);
  return decodeCut(enc, payload, cuts);
}

interface Mode {
  name: string;
  opts: Omit<EncodeOpts, 'chunkSize'>;
}

// The framings current SDKs send, by x-amz-content-sha256 value (plus bare unsigned chunks).
const MODES: Mode[] = [
  { name: 'unsigned, no trailer', opts: { sig: 'none' } },
  { name: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER crc32', opts: { sig: 'none', trailers: [['x-amz-checksum-crc32', 'sOO8/Q==']] } },
  { name: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', opts: { sig: 'hmac' } },
  {
    name: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER crc64nvme + trailer signature',
    opts: { sig: 'hmac', trailers: [['x-amz-checksum-crc64nvme', 'ZDhNrYgUA7w=']], trailerSignature: true },
  },
  {
    name: 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER crc32 + trailer signature',
    opts: { sig: 'ecdsa', trailers: [['x-amz-checksum-crc32', 'AAAAAA==']], trailerSignature: true },
  },
];

const CHUNK_SIZES = [8192, 65536];

// ---------------------------------------------------------------------------------------------
// Round trips

for (const size of [0, 1, 8192]) {
  test(`every split point: payload ${size} B`, (t) => {
    const payload = makePayload(size, 1000 + size);
    let runs = 0;
    for (const mode of MODES) {
      for (const chunkSize of size === 8192 ? CHUNK_SIZES : [8192]) {
        const enc = encode(payload, { chunkSize, ...mode.opts });
        const what = `${mode.name}, chunk ${chunkSize}`;
        t.is(decodeCut(enc, payload, []), undefined, `${what}, one piece`);
        t.is(decodePieces(enc, payload, () => 1), undefined, `${what}, 1-byte pieces`);
        for (let c = 0; c <= enc.body.length; c++) {
          const err = decodeCut(enc, payload, [c]);
          if (err !== undefined) t.fail(`${what}, split at ${c}: ${err}`);
          runs++;
        }
        if (size <= 1) {
          // Tiny bodies: every pair of cut points too, so each element is split twice over.
          for (let a = 1; a < enc.body.length; a++) {
            for (let b = a + 1; b < enc.body.length; b++) {
              const err = decodeCut(enc, payload, [a, b]);
              if (err !== undefined) t.fail(`${what}, split at ${a},${b}: ${err}`);
              runs++;
            }
          }
        }
      }
    }
    t.log(`${runs} split decodes`);
    t.pass();
  });
}

for (const size of [64 * 1024 + 3, 3 * 1024 * 1024]) {
  for (const chunkSize of CHUNK_SIZES) {
    test(`random split points: payload ${size} B, chunk ${chunkSize}`, (t) => {
      const payload = makePayload(size, size ^ chunkSize);
      const r = rng(size * 31 + chunkSize);
      for (const [mi, mode] of MODES.entries()) {
        const enc = encode(payload, { chunkSize, ...mode.opts });
        t.is(decodeCut(enc, payload, []), undefined, `${mode.name}: one piece`);
        // Mostly tiny pieces (1-8 B) mixed with big ones, so boundaries land everywhere.
        const mixed = (): number => (r() < 0.5 ? 1 + Math.floor(r() * 8) : 1 + Math.floor(r() * 100_000));
        for (let round = 0; round < 3; round++) t.is(decodePieces(enc, payload, mixed), undefined, `${mode.name}: mixed pieces ${round}`);
        t.is(decodePieces(enc, payload, () => 1 + Math.floor(r() * 64)), undefined, `${mode.name}: 1-64 B pieces`);
        t.is(decodePieces(enc, payload, () => 256 * 1024), undefined, `${mode.name}: 256 KiB pieces`);
        // 1-byte pieces: all modes for the 64 KiB body, two of them for 3 MiB (3M pushes each).
        if (size < 1024 * 1024 || mi === 1 || mi === 3) t.is(decodePieces(enc, payload, () => 1), undefined, `${mode.name}: 1-byte pieces`);
        // Cuts right around every header line and CRLF (the structural offsets).
        const cuts: number[] = [];
        for (let k = 0; k < enc.body.length; k++) {
          if (enc.body[k] === 0x0d && enc.body[k + 1] === 0x0a && cuts.length < 100_000) {
            for (const d of [-1, 0, 1, 2]) if (k + d > (cuts.at(-1) ?? 0) && k + d < enc.body.length) cuts.push(k + d);
          }
        }
        t.is(decodeCut(enc, payload, cuts), undefined, `${mode.name}: cuts around CRLFs`);
      }
    });
  }
}

test('chunks of varying sizes, foreign extensions, whitespace, case', (t) => {
  const body =
    '000A;foo=bar;Chunk-Signature=abc123;baz\r\n0123456789\r\n' +
    '3 ; chunk-signature = def456 ; x="q;\\"uo ted"\r\nabc\r\n' +
    '1;ext\r\nZ\r\n' +
    '0;CHUNK-SIGNATURE=fff\r\n' +
    'X-Amz-Checksum-CRC32:  AAAAAA==  \r\nx-amz-meta-x:a b\r\n\r\n';
  const got: Array<[string | undefined, number]> = [];
  const data: number[] = [];
  const dec = new AwsChunkedDecoder({ onData: (d) => data.push(...d), onChunkSignature: (s, n) => got.push([s, n]) });
  t.deepEqual([...dec.trailers], []);
  dec.push(Buffer.from(body, 'latin1'));
  dec.end();
  t.true(dec.done);
  t.is(Buffer.from(data).toString('latin1'), '0123456789abcZ');
  t.is(dec.decodedBytes, 14);
  t.deepEqual(got, [['abc123', 10], ['def456', 3], [undefined, 1], ['fff', 0]]);
  t.deepEqual([...dec.trailers], [['x-amz-checksum-crc32', 'AAAAAA=='], ['x-amz-meta-x', 'a b']]);
});

test('trailer lines ending in a bare LF are tolerated', (t) => {
  for (const tail of ['x-amz-checksum-crc32:AAAAAA==\n\r\n', 'x-amz-checksum-crc32:AAAAAA==\n\n', 'x-amz-checksum-crc32:AAAAAA==\r\n\n']) {
    const dec = new AwsChunkedDecoder({ onData: () => {} });
    dec.push(Buffer.from('1\r\nx\r\n0\r\n' + tail));
    dec.end();
    t.is(dec.trailers.get('x-amz-checksum-crc32'), 'AAAAAA==');
  }
});

test('a sink without onChunkSignature; empty pushes; end() twice', (t) => {
  const dec = new AwsChunkedDecoder({ onData: () => {} });
  dec.push(new Uint8Array(0));
  dec.push(Buffer.from('2\r\nab\r\n0\r\n\r\n'));
  dec.push(new Uint8Array(0)); // nothing after the end is still fine
  dec.end();
  dec.end();
  t.is(dec.decodedBytes, 2);
});

// ---------------------------------------------------------------------------------------------
// Malformed bodies: each is also fed split at every point, and must fail the same way.

const MALFORMED: Array<[string, string, AwsChunkedErrorCode]> = [
  ['bad hex', 'zz\r\nabc\r\n0\r\n\r\n', 'InvalidRequest'],
  ['hex then junk', '1g\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['negative size', '-1\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['plus sign', '+1\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['0x prefix', '0x1\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['empty size line', '\r\n0\r\n\r\n', 'InvalidRequest'],
  ['leading space', ' 1\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['17 hex digits', '00000000000000001\r\nx\r\n0\r\n\r\n', 'InvalidArgument'],
  ['size 2^53', '20000000000000\r\nx\r\n0\r\n\r\n', 'InvalidArgument'],
  ['size 2^64-1', 'ffffffffffffffff\r\nx\r\n0\r\n\r\n', 'InvalidArgument'],
  ['missing CRLF after data', '3\r\nabcX\r\n0\r\n\r\n', 'InvalidRequest'],
  ['LF only after data', '3\r\nabc\n0\r\n\r\n', 'InvalidRequest'],
  ['CR without LF after data', '3\r\nabc\r0\r\n\r\n', 'InvalidRequest'],
  ['header line ends in bare LF', '3\nabc\r\n0\r\n\r\n', 'InvalidRequest'],
  ['bare CR inside header line', '3\r;x\r\nabc\r\n0\r\n\r\n', 'InvalidRequest'],
  ['chunk-signature twice', '1;chunk-signature=aa;chunk-signature=bb\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['empty chunk-signature', '1;chunk-signature=\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['empty extension name', '1;=a\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['unterminated quoted extension', '1;a="b\r\nx\r\n0\r\n\r\n', 'InvalidRequest'],
  ['empty body', '', 'IncompleteBody'],
  ['truncated in header', '1a;chunk-sig', 'IncompleteBody'],
  ['truncated mid-data', 'a\r\n01234', 'IncompleteBody'],
  ['truncated before CRLF after data', '3\r\nabc', 'IncompleteBody'],
  ['truncated between CR and LF', '3\r\nabc\r', 'IncompleteBody'],
  ['no final chunk', '3\r\nabc\r\n', 'IncompleteBody'],
  ['no empty line after final chunk', '3\r\nabc\r\n0\r\n', 'IncompleteBody'],
  ['truncated mid-trailer', '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAA', 'IncompleteBody'],
  ['truncated after a trailer line', '3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n', 'IncompleteBody'],
  ['garbage after end', '3\r\nabc\r\n0\r\n\r\nX', 'InvalidRequest'],
  ['extra CRLF after end', '0\r\n\r\n\r\n', 'InvalidRequest'],
  ['garbage after trailers', '0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n0\r\n\r\n', 'InvalidRequest'],
  ['trailer without colon', '0\r\nx-amz-checksum-crc32 AAAAAA==\r\n\r\n', 'InvalidRequest'],
  ['trailer with space before colon', '0\r\nx-amz-checksum-crc32 :AAAAAA==\r\n\r\n', 'InvalidRequest'],
  ['folded trailer line', '0\r\na:b\r\n c\r\n\r\n', 'InvalidRequest'],
  ['trailer given twice', '0\r\na:b\r\nA:c\r\n\r\n', 'InvalidRequest'],
  ['control character in trailer', '0\r\na:b\x01c\r\n\r\n', 'InvalidRequest'],
  ['over-long header line', '1;x=' + 'a'.repeat(5000) + '\r\nZ\r\n0\r\n\r\n', 'InvalidRequest'],
  ['over-long line without LF', 'f'.repeat(5000), 'InvalidRequest'],
  ['over-long trailer line', '0\r\nx-amz-meta-a:' + 'v'.repeat(5000) + '\r\n\r\n', 'InvalidRequest'],
  ['trailer section too large', '0\r\n' + Array.from({ length: 600 }, (_, i) => `x-amz-meta-${i}:${'v'.repeat(20)}\r\n`).join('') + '\r\n', 'InvalidRequest'],
];

function failure(body: Uint8Array, cuts: readonly number[]): { code: string; at: 'push' | 'end' } | undefined {
  const dec = new AwsChunkedDecoder({ onData: () => {} });
  let prev = 0;
  try {
    for (const c of [...cuts, body.length]) {
      dec.push(body.slice(prev, c));
      prev = c;
    }
  } catch (err) {
    return { code: err instanceof AwsChunkedError ? err.s3Code : String(err), at: 'push' };
  }
  try {
    dec.end();
  } catch (err) {
    return { code: err instanceof AwsChunkedError ? err.s3Code : String(err), at: 'end' };
  }
  return undefined;
}

for (const [name, text, code] of MALFORMED) {
  test(`malformed: ${name} → ${code}`, (t) => {
    const body = Buffer.from(text, 'latin1');
    const whole = failure(body, []);
    t.is(whole?.code, code);
    t.is(whole?.at, code === 'IncompleteBody' ? 'end' : 'push');
    for (let c = 0; c <= body.length; c++) {
      const f = failure(body, [c]);
      if (f?.code !== code) t.fail(`split at ${c}: got ${JSON.stringify(f)}`);
    }
    const ones = failure(body, Array.from({ length: body.length }, (_, i) => i));
    t.is(ones?.code, code, '1-byte pieces');
  });
}

test('malformed: the error is sticky, later push and end throw it again', (t) => {
  const dec = new AwsChunkedDecoder({ onData: () => {} });
  const err = t.throws(() => dec.push(Buffer.from('zz\r\n')), { instanceOf: AwsChunkedError });
  t.is(t.throws(() => dec.push(Buffer.from('0\r\n\r\n'))), err);
  t.is(t.throws(() => dec.end()), err);
  t.false(dec.done);
  t.is(err?.s3Code, 'InvalidRequest');
  t.is(err?.code, 'InvalidRequest');
  t.true(err instanceof S3Error);
  t.is(err?.status, 400);
});

test('malformed: end() before completion is IncompleteBody and sticky', (t) => {
  const dec = new AwsChunkedDecoder({ onData: () => {} });
  dec.push(Buffer.from('5\r\nab'));
  const err = t.throws(() => dec.end(), { instanceOf: AwsChunkedError });
  t.is(err?.s3Code, 'IncompleteBody');
  t.is(t.throws(() => dec.push(Buffer.from('cde\r\n0\r\n\r\n'))), err);
});

test('a throwing sink stops the decoder', (t) => {
  const boom = new Error('disk full');
  const dec = new AwsChunkedDecoder({
    onData: () => {
      throw boom;
    },
  });
  t.is(t.throws(() => dec.push(Buffer.from('1\r\nx\r\n0\r\n\r\n'))), boom);
  t.is(t.throws(() => dec.end()), boom);
});

test('limits are configurable', (t) => {
  const line = '1;chunk-signature=' + 'a'.repeat(64) + '\r\nx\r\n0\r\n\r\n'; // an 82-byte header line
  t.notThrows(() => new AwsChunkedDecoder({ onData: () => {} }, { maxLineBytes: 82 }).push(Buffer.from(line)));
  t.throws(() => new AwsChunkedDecoder({ onData: () => {} }, { maxLineBytes: 81 }).push(Buffer.from(line)), { instanceOf: AwsChunkedError });
  // Trailer budget: lines with their CRLF; the final empty line is free.
  const tr = '0\r\na:1\r\nb:2\r\n\r\n'; // 10 trailer bytes
  t.notThrows(() => new AwsChunkedDecoder({ onData: () => {} }, { maxTrailerBytes: 10 }).push(Buffer.from(tr)));
  t.throws(() => new AwsChunkedDecoder({ onData: () => {} }, { maxTrailerBytes: 9 }).push(Buffer.from(tr)), { instanceOf: AwsChunkedError });
  // A trailer line ending in a bare LF gets no extra byte for the missing CR.
  t.notThrows(() => new AwsChunkedDecoder({ onData: () => {} }, { maxLineBytes: 5 }).push(Buffer.from('0\r\na:123\n\n')));
  t.throws(() => new AwsChunkedDecoder({ onData: () => {} }, { maxLineBytes: 5 }).push(Buffer.from('0\r\na:1234\n\n')), { instanceOf: AwsChunkedError });
  t.throws(() => new AwsChunkedDecoder({ onData: () => {} }, { maxLineBytes: 0 }), { instanceOf: RangeError });
  t.throws(() => new AwsChunkedDecoder({ onData: () => {} }, { maxTrailerBytes: 1.5 }), { instanceOf: RangeError });
});

// ---------------------------------------------------------------------------------------------
// Helpers

test('checkDecodedLength', (t) => {
  const dec = new AwsChunkedDecoder({ onData: () => {} });
  dec.push(Buffer.from('a\r\n0123456789\r\n'));
  t.is(t.throws(() => checkDecodedLength(dec, '10'), { instanceOf: AwsChunkedError })?.s3Code, 'IncompleteBody'); // not done yet
  dec.push(Buffer.from('0\r\n\r\n'));
  dec.end();
  t.notThrows(() => checkDecodedLength(dec, '10'));
  t.notThrows(() => checkDecodedLength(dec, ' 10 '));
  t.notThrows(() => checkDecodedLength(dec, undefined));
  t.is(t.throws(() => checkDecodedLength(dec, '11'), { instanceOf: AwsChunkedError })?.s3Code, 'IncompleteBody');
  t.is(t.throws(() => checkDecodedLength(dec, '9'), { instanceOf: AwsChunkedError })?.s3Code, 'InvalidRequest');
  for (const bad of ['', 'abc', '-1', '+10', '1e1', '0x0a', '99999999999999999']) {
    t.is(t.throws(() => checkDecodedLength(dec, bad), { instanceOf: AwsChunkedError })?.s3Code, 'InvalidArgument', bad);
  }
  t.is(parseDecodedContentLength('66560'), 66560);
});

test('isAwsChunked, streamingPayloadKind, stripAwsChunked', (t) => {
  for (const v of [
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
    'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
  ]) {
    t.true(isAwsChunked(v, ''), v);
    t.true(isAwsChunked(v, 'aws-chunked'), v);
  }
  const digest = createHash('sha256').update('').digest('hex');
  t.false(isAwsChunked('UNSIGNED-PAYLOAD', ''));
  t.false(isAwsChunked(digest, 'gzip'));
  t.true(isAwsChunked('UNSIGNED-PAYLOAD', 'aws-chunked'));
  t.true(isAwsChunked(digest, 'gzip, AWS-Chunked'));
  t.false(isAwsChunked('STREAMING-PAYLOAD-NONSENSE', 'aws-chunkedx'));

  t.deepEqual(streamingPayloadKind('STREAMING-UNSIGNED-PAYLOAD-TRAILER'), { algorithm: undefined, trailer: true });
  t.deepEqual(streamingPayloadKind('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'), { algorithm: 'AWS4-HMAC-SHA256', trailer: false });
  t.deepEqual(streamingPayloadKind('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER'), { algorithm: 'AWS4-ECDSA-P256-SHA256', trailer: true });
  t.is(streamingPayloadKind('UNSIGNED-PAYLOAD'), undefined);

  t.is(stripAwsChunked('aws-chunked'), '');
  t.is(stripAwsChunked(''), '');
  t.is(stripAwsChunked('aws-chunked,gzip'), 'gzip');
  t.is(stripAwsChunked('gzip, AWS-CHUNKED , br'), 'gzip,br');
});

// ---------------------------------------------------------------------------------------------
// Throughput (reported, not asserted): 64 MiB signed, fed in 256 KiB network pieces. "views only"
// is the decoder's own cost (it never touches payload bytes, so it is per chunk, not per byte);
// "copying" adds the one copy the caller makes into a staging buffer.

test('throughput', (t) => {
  const size = 64 * 1024 * 1024;
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) payload[i] = i >>> 12;
  for (const chunkSize of [65536, 8192]) {
    const enc = encode(payload, { chunkSize, sig: 'hmac', trailers: [['x-amz-checksum-crc32', 'AAAAAA==']], trailerSignature: true });
    const piece = 256 * 1024;
    const pieces: Uint8Array[] = [];
    for (let off = 0; off < enc.body.length; off += piece) pieces.push(enc.body.slice(off, off + piece));

    const run = (copy: boolean): number => {
      const dst = new Uint8Array(1024 * 1024); // a writer's staging buffer, reused
      let n = 0;
      let sigs = 0;
      const dec = new AwsChunkedDecoder({
        onData: copy
          ? (d) => {
              dst.set(d); // views are at most one chunk long: always fits
              n += d.length;
            }
          : (d) => {
              n += d.length;
            },
        onChunkSignature: () => {
          sigs++;
        },
      });
      const t0 = process.hrtime.bigint();
      for (const p of pieces) dec.push(p);
      dec.end();
      const ns = Number(process.hrtime.bigint() - t0);
      t.is(n, size);
      t.is(sigs, size / chunkSize + 1);
      return size / (1024 * 1024) / (ns / 1e9);
    };
    let best = 0;
    let bestCopy = 0;
    for (let i = 0; i < 5; i++) {
      best = Math.max(best, run(false));
      bestCopy = Math.max(bestCopy, run(true));
    }
    t.log(
      `decode 64 MiB (${chunkSize / 1024} KiB chunks, 256 KiB pieces): ${best.toFixed(0)} MiB/s views only, ` +
        `${bestCopy.toFixed(0)} MiB/s copying into a staging buffer`,
    );
  }
});
