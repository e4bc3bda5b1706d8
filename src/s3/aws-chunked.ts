// Streaming decoder of `Content-Encoding: aws-chunked` request bodies (SigV4 "chunked upload").
//
// Current AWS SDKs send PutObject / UploadPart bodies in this framing whenever the payload is
// streamed (x-amz-content-sha256 = STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER],
// STREAMING-UNSIGNED-PAYLOAD-TRAILER, or the SigV4a STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD[-TRAILER]).
// Written from the AWS S3 API reference pages "Transferring Payload in Multiple Chunks" and
// "Including Trailing Headers". On the wire:
//
//   <hex-size>[;chunk-signature=<sig>][;other-ext...]\r\n <size bytes> \r\n    (repeated)
//   0[;chunk-signature=<sig>]\r\n                                             (final, empty chunk)
//   <name>:<value>\r\n ...                                                     (optional trailers,
//                                         e.g. x-amz-checksum-crc32, x-amz-trailer-signature)
//   \r\n                                                                       (end of body)
//
// uWebSockets.js hands the body over as ArrayBuffer pieces of arbitrary size, so every element
// (header line, CRLF, trailer) may be split across pieces at any byte. The decoder is a byte state
// machine: data bytes are forwarded as subarray views of the piece being pushed (never copied:
// the payload is the only large thing here and the caller copies it once, into its write buffer);
// only the short header and trailer lines that straddle two pieces are accumulated, in one
// buffer allocated on first need and reused. Signatures are *reported*, not verified: the SigV4
// layer owns the keys and the chain of previous signatures.

import { Buffer } from 'node:buffer';

import { S3Error } from './errors';

export type AwsChunkedErrorCode = 'IncompleteBody' | 'InvalidRequest' | 'InvalidArgument';

// A subclass of S3Error so that the edge turns it into the S3 XML error body like any other error;
// `s3Code` repeats `code` with the narrower type the callers of this module can switch on.
export class AwsChunkedError extends S3Error {
  readonly s3Code: AwsChunkedErrorCode;

  constructor(s3Code: AwsChunkedErrorCode, message: string) {
    super(s3Code, message);
    this.name = 'AwsChunkedError';
    this.s3Code = s3Code;
  }
}

export interface AwsChunkedSink {
  /** Decoded payload bytes. `data` is a view that is only valid during the call (the caller copies it). */
  onData(data: Uint8Array): void;
  /**
   * One per chunk, for signature checking by a later layer: the chunk's declared signature (or
   * undefined) and its size. Called when the chunk's header line is complete, i.e. before that
   * chunk's data reaches onData, so a verifier can start a fresh hash for it. The final, empty
   * chunk is reported too (size 0): its signature closes the chain.
   */
  onChunkSignature?(signature: string | undefined, size: number): void;
}

export interface AwsChunkedOptions {
  /** Longest chunk header or trailer line, CRLF excluded. Default 4096. */
  maxLineBytes?: number;
  /** Largest trailer section (all trailer lines with their line ends). Default 16 KiB. */
  maxTrailerBytes?: number;
}

// The values of x-amz-content-sha256 that announce an aws-chunked body.
export const STREAMING_PAYLOAD_HMAC = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_PAYLOAD_HMAC_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_PAYLOAD_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
export const STREAMING_PAYLOAD_ECDSA = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD';
export const STREAMING_PAYLOAD_ECDSA_TRAILER = 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER';

export interface StreamingPayloadKind {
  /** The signing algorithm of the chunk signatures, or undefined when chunks are unsigned. */
  readonly algorithm: 'AWS4-HMAC-SHA256' | 'AWS4-ECDSA-P256-SHA256' | undefined;
  /** Whether a trailer section (x-amz-trailer) follows the final chunk. */
  readonly trailer: boolean;
}

const STREAMING_KINDS: ReadonlyMap<string, StreamingPayloadKind> = new Map<string, StreamingPayloadKind>([
  [STREAMING_PAYLOAD_HMAC, { algorithm: 'AWS4-HMAC-SHA256', trailer: false }],
  [STREAMING_PAYLOAD_HMAC_TRAILER, { algorithm: 'AWS4-HMAC-SHA256', trailer: true }],
  [STREAMING_UNSIGNED_PAYLOAD_TRAILER, { algorithm: undefined, trailer: true }],
  [STREAMING_PAYLOAD_ECDSA, { algorithm: 'AWS4-ECDSA-P256-SHA256', trailer: false }],
  [STREAMING_PAYLOAD_ECDSA_TRAILER, { algorithm: 'AWS4-ECDSA-P256-SHA256', trailer: true }],
]);

/**
 * What the x-amz-content-sha256 value says about the framing, or undefined when it is not one of
 * the STREAMING-* values (a hex digest, UNSIGNED-PAYLOAD, ...). The signature layer uses it to know
 * whether every chunk must carry a chunk-signature and whether a trailer signature is due.
 */
export function streamingPayloadKind(contentSha256: string): StreamingPayloadKind | undefined {
  return STREAMING_KINDS.get(contentSha256);
}

// Content-Encoding is a comma-separated list; aws-chunked may come with others ("aws-chunked,gzip").
function encodingTokens(contentEncoding: string): string[] {
  return contentEncoding.split(',').map((s) => s.trim());
}

/**
 * Whether the request body is aws-chunked framed. The STREAMING-* x-amz-content-sha256 values are
 * authoritative (some clients omit Content-Encoding with them); failing that, a client that lists
 * aws-chunked in Content-Encoding is taken at its word and the decoder validates the framing.
 */
export function isAwsChunked(contentSha256: string, contentEncoding: string): boolean {
  if (STREAMING_KINDS.has(contentSha256)) return true;
  if (contentEncoding === '') return false; // the common case, without splitting anything
  return encodingTokens(contentEncoding).some((t) => t.toLowerCase() === 'aws-chunked');
}

/**
 * The Content-Encoding to store with the object: S3 drops aws-chunked (a transfer detail, not a
 * property of the object) and keeps the rest; '' when nothing remains.
 */
export function stripAwsChunked(contentEncoding: string): string {
  if (contentEncoding === '') return '';
  return encodingTokens(contentEncoding)
    .filter((t) => t !== '' && t.toLowerCase() !== 'aws-chunked')
    .join(',');
}

// Decoder states. Plain numbers in a switch: the hot loop must not allocate or dispatch dynamically.
const S_HEADER = 0; // reading "<hex-size>[;ext...]\r\n"
const S_DATA = 1; // forwarding `remaining` payload bytes
const S_DATA_CR = 2; // expecting the CR that ends the chunk data
const S_DATA_LF = 3; // expecting the LF that ends the chunk data
const S_TRAILER = 4; // reading trailer lines until the empty line
const S_DONE = 5; // the empty line was read: nothing more may come
const S_FAILED = 6; // an error was thrown: every later call throws it again

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const COLON = 0x3a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

// 16 hex digits is the most any real client sends (a 64-bit size); more is refused before the value
// is even considered, so that "0000...0001" padded to any length cannot make us loop or misparse.
const MAX_SIZE_DIGITS = 16;

// Byte → hex digit value, -1 for anything else (so '+', '-', ' ', 'x' all stop the size).
const HEX_VALUE = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX_VALUE[0x41 + c] = 10 + c;
  HEX_VALUE[0x61 + c] = 10 + c;
}

// RFC 9110 token characters: header-field and chunk-extension names.
const IS_TCHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) IS_TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) IS_TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) IS_TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") IS_TCHAR[ch.charCodeAt(0)] = 1;

// "chunk-signature" as lower-case bytes, compared case-insensitively without making a string.
const CHUNK_SIGNATURE = Uint8Array.from('chunk-signature', (ch) => ch.charCodeAt(0));

const EMPTY_TRAILERS: ReadonlyMap<string, string> = new Map();

function invalid(message: string): AwsChunkedError {
  return new AwsChunkedError('InvalidRequest', message);
}

// Line contents are ASCII once validated; latin1 maps bytes 1:1 and is the cheapest decoding.
function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

function skipWhitespace(buf: Uint8Array, i: number, end: number): number {
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  return i;
}

function isChunkSignatureName(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start !== CHUNK_SIGNATURE.length) return false;
  for (let k = 0; k < CHUNK_SIGNATURE.length; k++) {
    // | 0x20 lower-cases ASCII letters and leaves '-' (0x2d) alone, the only other byte in the name.
    if ((buf[start + k]! | 0x20) !== CHUNK_SIGNATURE[k]) return false;
  }
  return true;
}

function positiveIntOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`aws-chunked: ${name} must be a positive integer`);
  return value;
}

export class AwsChunkedDecoder {
  private readonly sink: AwsChunkedSink;
  private readonly maxLineBytes: number;
  private readonly maxTrailerBytes: number;

  private state = S_HEADER;
  private failure: unknown = undefined;
  // Payload bytes still expected in the current chunk (S_DATA).
  private remaining = 0;
  private decoded = 0;
  // Part of a line that began in an earlier piece; lineLen === 0 means no partial line is pending.
  // Capacity maxLineBytes + 1: the content plus a CR still waiting for its LF.
  private lineBuf: Uint8Array | undefined = undefined;
  private lineLen = 0;
  private trailerBytes = 0;
  private readonly trailerMap = new Map<string, string>();

  constructor(sink: AwsChunkedSink, opts?: AwsChunkedOptions) {
    this.sink = sink;
    this.maxLineBytes = positiveIntOption(opts?.maxLineBytes, 4096, 'maxLineBytes');
    this.maxTrailerBytes = positiveIntOption(opts?.maxTrailerBytes, 16 * 1024, 'maxTrailerBytes');
  }

  /** Payload bytes handed to onData so far. */
  get decodedBytes(): number {
    return this.decoded;
  }

  /**
   * Trailer headers (lower-case names, in arrival order) once complete; empty until `done`, so a
   * half-read trailer section is never mistaken for the whole. Arrival order matters to the trailer
   * signature, which covers the canonical "name:value\n" lines in the order sent.
   */
  get trailers(): ReadonlyMap<string, string> {
    return this.state === S_DONE ? this.trailerMap : EMPTY_TRAILERS;
  }

  /** The final chunk and the trailer section (possibly empty) have been read. */
  get done(): boolean {
    return this.state === S_DONE;
  }

  /** Feed the next raw body chunk; throws AwsChunkedError on malformed framing. */
  push(chunk: Uint8Array): void {
    if (this.state === S_FAILED) throw this.failure;
    try {
      this.consume(chunk);
    } catch (err) {
      // Also for errors thrown by the sink: the position inside the stream is lost either way.
      this.state = S_FAILED;
      this.failure = err;
      throw err;
    }
  }

  /** Call after the last raw chunk; throws AwsChunkedError(IncompleteBody) when the stream ended early. */
  end(): void {
    if (this.state === S_FAILED) throw this.failure;
    if (this.state === S_DONE) return;
    const where =
      this.state === S_DATA ? `${this.remaining} bytes short inside a chunk`
      : this.state === S_TRAILER ? 'inside the trailer section'
      : this.state === S_HEADER ? 'before the final chunk'
      : 'before the CRLF that ends a chunk';
    this.failure = new AwsChunkedError('IncompleteBody', `aws-chunked body ended ${where}`);
    this.state = S_FAILED;
    throw this.failure;
  }

  private consume(chunk: Uint8Array): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      switch (this.state) {
        case S_DATA: {
          const n = Math.min(this.remaining, len - pos);
          this.remaining -= n;
          this.decoded += n;
          this.sink.onData(chunk.subarray(pos, pos + n));
          pos += n;
          if (this.remaining === 0) this.state = S_DATA_CR;
          break;
        }
        case S_DATA_CR:
          if (chunk[pos] !== CR) throw invalid('aws-chunked: chunk data is not followed by CRLF');
          pos++;
          this.state = S_DATA_LF;
          break;
        case S_DATA_LF:
          if (chunk[pos] !== LF) throw invalid('aws-chunked: chunk data is not followed by CRLF');
          pos++;
          this.state = S_HEADER;
          break;
        case S_HEADER:
        case S_TRAILER:
          pos = this.readLine(chunk, pos);
          break;
        default: // S_DONE (S_FAILED never gets here: push checks it first)
          throw invalid('aws-chunked: bytes after the end of the body');
      }
    }
  }

  // Most bytes a line may hold before its LF: the content limit plus one for the CR.
  private lineCapacity(): number {
    if (this.state === S_HEADER) return this.maxLineBytes + 1;
    // Trailer lines also draw on the trailer budget (their CRLF included), so a stream of short
    // trailer lines cannot grow the map without bound. The empty line that ends the section always fits.
    const budget = this.maxTrailerBytes - this.trailerBytes - 2;
    return Math.max(0, Math.min(this.maxLineBytes, budget)) + 1;
  }

  // Reads (part of) a line starting at `pos`; returns the position after what it consumed.
  private readLine(chunk: Uint8Array, pos: number): number {
    const capacity = this.lineCapacity();
    const lf = chunk.indexOf(LF, pos);
    if (lf < 0) {
      // The line goes on in the next piece: keep what we have (bounded, so a body with no LF at
      // all is refused as soon as it exceeds the limit rather than buffered).
      const n = chunk.length - pos;
      if (this.lineLen + n > capacity) throw this.lineTooLong();
      this.lineBuf ??= new Uint8Array(this.maxLineBytes + 1);
      this.lineBuf.set(chunk.subarray(pos), this.lineLen);
      this.lineLen += n;
      return chunk.length;
    }
    const n = lf - pos;
    if (this.lineLen + n > capacity) throw this.lineTooLong();
    if (this.lineLen === 0) {
      // The usual case: the whole line is inside this piece, parse it where it lies.
      this.completeLine(chunk, pos, lf);
    } else {
      const buf = this.lineBuf!;
      buf.set(chunk.subarray(pos, lf), this.lineLen);
      const total = this.lineLen + n;
      this.lineLen = 0;
      this.completeLine(buf, 0, total);
    }
    return lf + 1;
  }

  private lineTooLong(): AwsChunkedError {
    return this.state === S_HEADER
      ? invalid(`aws-chunked: chunk header line longer than ${this.maxLineBytes} bytes`)
      : invalid(`aws-chunked: trailer line longer than ${this.maxLineBytes} bytes or trailer section over ${this.maxTrailerBytes} bytes`);
  }

  // [start, lf) is a whole line, CR included if there was one.
  private completeLine(buf: Uint8Array, start: number, lf: number): void {
    let end = lf;
    if (end > start && buf[end - 1] === CR) {
      end--;
    } else if (this.state === S_HEADER) {
      // SDKs always send CRLF here; a bare LF means the framing is off (e.g. a wrong chunk size).
      throw invalid('aws-chunked: chunk header line does not end with CRLF');
    }
    // Bare LF is tolerated after trailer lines: the AWS documentation writes the trailer chunk with
    // "\n" (its canonical form for signing), and some clients copied that onto the wire. Such a line
    // had room for one more content byte in lineCapacity (the CR's place): recheck the content.
    if (end - start > this.maxLineBytes) throw this.lineTooLong();
    if (this.state === S_HEADER) this.chunkHeader(buf, start, end);
    else this.trailerLine(buf, start, end, lf + 1 - start);
  }

  private chunkHeader(buf: Uint8Array, start: number, end: number): void {
    let i = start;
    let size = 0;
    let digits = 0;
    for (; i < end; i++) {
      const d = HEX_VALUE[buf[i]!]!;
      if (d < 0) break;
      if (++digits > MAX_SIZE_DIGITS) throw new AwsChunkedError('InvalidArgument', `aws-chunked: chunk size has more than ${MAX_SIZE_DIGITS} hex digits`);
      size = size * 16 + d;
    }
    // No digits covers the empty line, a sign ("+1", "-1"), "0x10" is caught below at the 'x'.
    if (digits === 0) throw invalid('aws-chunked: chunk size is not a hexadecimal number');
    // Exact despite the float arithmetic: above 2^53 doubles only round to other values above it.
    if (size > Number.MAX_SAFE_INTEGER || this.decoded + size > Number.MAX_SAFE_INTEGER) {
      throw new AwsChunkedError('InvalidArgument', 'aws-chunked: chunk size out of range');
    }

    let signature: string | undefined;
    i = skipWhitespace(buf, i, end); // RFC 9112 allows whitespace before ';'
    while (i < end) {
      if (buf[i] !== SEMI) throw invalid('aws-chunked: unexpected character in chunk header');
      i = skipWhitespace(buf, i + 1, end);
      const nameStart = i;
      while (i < end && IS_TCHAR[buf[i]!] === 1) i++;
      const nameEnd = i;
      if (nameEnd === nameStart) throw invalid('aws-chunked: empty chunk extension name');
      i = skipWhitespace(buf, i, end);
      let valueStart = i;
      let valueEnd = i;
      if (i < end && buf[i] === EQUALS) {
        i = skipWhitespace(buf, i + 1, end);
        if (i < end && buf[i] === DQUOTE) {
          // Quoted value: only foreign extensions would use one; skip it, escapes included.
          valueStart = ++i;
          while (i < end && buf[i] !== DQUOTE) {
            if (buf[i]! < SP && buf[i] !== HTAB) throw invalid('aws-chunked: control character in chunk extension');
            i += buf[i] === BACKSLASH ? 2 : 1;
          }
          if (i >= end) throw invalid('aws-chunked: unterminated quoted chunk extension value');
          valueEnd = i++;
        } else {
          // Unquoted value: tolerant of any visible byte but ';' and '"', since only chunk-signature
          // matters to us and foreign extensions are skipped, not interpreted.
          valueStart = i;
          while (i < end && buf[i]! > SP && buf[i] !== 0x7f && buf[i] !== SEMI && buf[i] !== DQUOTE) i++;
          valueEnd = i;
          if (valueEnd === valueStart) throw invalid('aws-chunked: empty chunk extension value');
        }
        i = skipWhitespace(buf, i, end);
      }
      if (isChunkSignatureName(buf, nameStart, nameEnd)) {
        if (signature !== undefined) throw invalid('aws-chunked: chunk-signature given twice');
        if (valueEnd === valueStart) throw invalid('aws-chunked: empty chunk-signature');
        signature = latin1(buf, valueStart, valueEnd);
      }
    }

    this.sink.onChunkSignature?.(signature, size);
    if (size === 0) {
      this.state = S_TRAILER;
    } else {
      this.remaining = size;
      this.state = S_DATA;
    }
  }

  // [start, end) is the line without its line end; rawLength counts the line end too.
  private trailerLine(buf: Uint8Array, start: number, end: number, rawLength: number): void {
    if (end === start) {
      this.state = S_DONE;
      return;
    }
    this.trailerBytes += rawLength;
    if (this.trailerBytes > this.maxTrailerBytes) throw this.lineTooLong();
    let i = start;
    while (i < end && IS_TCHAR[buf[i]!] === 1) i++;
    const nameEnd = i;
    // No whitespace before ':' (RFC 9112 §5.1); a line starting with whitespace would be an
    // obsolete folded continuation, refused too.
    if (nameEnd === start || i >= end || buf[i] !== COLON) throw invalid('aws-chunked: malformed trailer line');
    let valueStart = skipWhitespace(buf, i + 1, end);
    let valueEnd = end;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
    for (let k = valueStart; k < valueEnd; k++) {
      const c = buf[k]!;
      if ((c < SP && c !== HTAB) || c === 0x7f) throw invalid('aws-chunked: control character in trailer value');
    }
    const name = latin1(buf, start, nameEnd).toLowerCase();
    if (this.trailerMap.has(name)) throw invalid(`aws-chunked: trailer ${name} given twice`);
    this.trailerMap.set(name, latin1(buf, valueStart, valueEnd));
  }
}

/**
 * Compares what was decoded with the client's x-amz-decoded-content-length, once the body is
 * complete (so it throws IncompleteBody when called before `done`). Fewer bytes than declared is
 * IncompleteBody, more is InvalidRequest; a header that is not a decimal length is InvalidArgument.
 * An absent header (undefined) declares nothing and passes: whether it is mandatory is the
 * caller's policy (S3 requires it with the signed STREAMING-* values).
 */
export function checkDecodedLength(
  decoder: Pick<AwsChunkedDecoder, 'decodedBytes' | 'done'>,
  decodedContentLength: string | undefined,
): void {
  if (!decoder.done) throw new AwsChunkedError('IncompleteBody', 'aws-chunked: body not complete');
  if (decodedContentLength === undefined) return;
  const declared = parseDecodedContentLength(decodedContentLength);
  if (decoder.decodedBytes < declared) {
    throw new AwsChunkedError(
      'IncompleteBody',
      `aws-chunked: decoded ${decoder.decodedBytes} bytes, x-amz-decoded-content-length says ${declared}`,
    );
  }
  if (decoder.decodedBytes > declared) {
    throw new AwsChunkedError(
      'InvalidRequest',
      `aws-chunked: decoded ${decoder.decodedBytes} bytes, more than x-amz-decoded-content-length ${declared}`,
    );
  }
}

/**
 * x-amz-decoded-content-length as a number (decimal digits only, a safe integer), for callers that
 * want it before the body arrives (size limits, preallocation); InvalidArgument otherwise.
 */
export function parseDecodedContentLength(value: string): number {
  const v = value.trim();
  const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new AwsChunkedError('InvalidArgument', `invalid x-amz-decoded-content-length: ${value}`);
  return n;
}
