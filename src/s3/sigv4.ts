// AWS Signature Version 4 primitives, written from the AWS documentation ("Signature Version 4 signing
// process", "Authenticating Requests: Using Query Parameters", "Signature Calculations for the
// Authorization Header: Transferring Payload in Multiple Chunks", "Signature calculations for trailing
// headers"). Pure functions: canonical request, string to sign, signing key, signatures; the policy
// (which keys, which errors) lives in auth.ts.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { percentDecode } from './uri';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac('AWS4' + secret, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, 'aws4_request');
}

export function signHex(key: Uint8Array, stringToSign: string): string {
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex signatures (length leaks nothing: it is always 64). */
export function signaturesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

// RFC 3986 unreserved characters stay, everything else becomes %XX of its UTF-8 bytes (upper-case hex).
const HEX = '0123456789ABCDEF';
function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
}

/** URI-encode per the SigV4 rules (each byte not unreserved → %XX); '/' kept when keepSlash. */
export function uriEncode(s: string, keepSlash = false): string {
  const b = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (isUnreserved(c) || (keepSlash && c === 0x2f)) out += String.fromCharCode(c);
    else out += '%' + HEX[c >> 4] + HEX[c & 15];
  }
  return out;
}

/**
 * The canonical query string from a raw query (no '?'): every name and value decoded then encoded
 * per RFC 3986, sorted by name then value, "name=value" joined with '&'. `omit` drops a parameter
 * (X-Amz-Signature of a presigned URL). Throws InvalidURI on malformed escapes.
 */
export function canonicalQuery(raw: string, omit?: string): string {
  if (raw === '') return '';
  const pairs: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq), true);
    if (name === omit) continue;
    const value = eq < 0 ? '' : percentDecode(part.slice(eq + 1), true);
    pairs.push([uriEncode(name), uriEncode(value)]);
  }
  // Byte order of the encoded strings: all ASCII, so plain string comparison is byte order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => n + '=' + v).join('&');
}

/** A header value as it enters the canonical headers: trimmed, runs of spaces collapsed to one. */
export function canonicalHeaderValue(v: string): string {
  return v.trim().replace(/\s+/g, ' ');
}

export interface CanonicalRequestParts {
  method: string;
  /** The URI path as the client signed it (S3: encoded once, not normalized). */
  path: string;
  /** Canonical query string (see canonicalQuery). */
  query: string;
  /** Signed header names, lower-case, in the order given (sorted by the client). */
  signedHeaders: readonly string[];
  /** Lower-case name → value. */
  header: (name: string) => string;
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalRequestParts): string {
  let headers = '';
  for (const h of p.signedHeaders) headers += h + ':' + canonicalHeaderValue(p.header(h)) + '\n';
  return [p.method, p.path === '' ? '/' : p.path, p.query, headers, p.signedHeaders.join(';'), p.payloadHash].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonicalReq: string): string {
  return ALGORITHM + '\n' + amzDate + '\n' + scope + '\n' + sha256Hex(canonicalReq);
}

/** String to sign of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkHash: string): string {
  return 'AWS4-HMAC-SHA256-PAYLOAD\n' + amzDate + '\n' + scope + '\n' + previousSignature + '\n' + EMPTY_SHA256 + '\n' + chunkHash;
}

/** String to sign of the trailer section: `trailers` are "name:value\n" lines, the signature trailer excluded. */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, trailers: string): string {
  return 'AWS4-HMAC-SHA256-TRAILER\n' + amzDate + '\n' + scope + '\n' + previousSignature + '\n' + sha256Hex(trailers);
}

/** "YYYYMMDDTHHMMSSZ" → epoch ms, NaN when it is not that form. */
export function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** A client's view of signing, for tests and tools: the Authorization header value of a request. */
export interface SignInput {
  method: string;
  path: string;
  /** Raw query string (no '?'). */
  query?: string;
  /** Headers to sign (any case); host must be among them. */
  headers: Record<string, string>;
  payloadHash: string;
  accessKey: string;
  secret: string;
  region: string;
  amzDate: string;
}

export function signRequest(i: SignInput): { authorization: string; signature: string; canonicalRequest: string; stringToSign: string } {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.headers)) lower[k.toLowerCase()] = v;
  const names = Object.keys(lower).sort();
  const date = i.amzDate.slice(0, 8);
  const scope = `${date}/${i.region}/s3/aws4_request`;
  const creq = canonicalRequest({ method: i.method, path: i.path, query: canonicalQuery(i.query ?? ''), signedHeaders: names, header: (n) => lower[n] ?? '', payloadHash: i.payloadHash });
  const sts = stringToSign(i.amzDate, scope, creq);
  const signature = signHex(signingKey(i.secret, date, i.region, 's3'), sts);
  return {
    authorization: `${ALGORITHM} Credential=${i.accessKey}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
    signature,
    canonicalRequest: creq,
    stringToSign: sts,
  };
}

/** A presigned URL's query string (no '?') for method+path, signing the host header only. */
export function presignQuery(i: { method: string; path: string; host: string; query?: string; accessKey: string; secret: string; region: string; amzDate: string; expires: number }): string {
  const date = i.amzDate.slice(0, 8);
  const scope = `${date}/${i.region}/s3/aws4_request`;
  const params =
    (i.query ? i.query + '&' : '') +
    `X-Amz-Algorithm=${ALGORITHM}&X-Amz-Credential=${uriEncode(`${i.accessKey}/${scope}`)}&X-Amz-Date=${i.amzDate}&X-Amz-Expires=${i.expires}&X-Amz-SignedHeaders=host`;
  const creq = canonicalRequest({ method: i.method, path: i.path, query: canonicalQuery(params), signedHeaders: ['host'], header: () => i.host, payloadHash: UNSIGNED_PAYLOAD });
  const signature = signHex(signingKey(i.secret, date, i.region, 's3'), stringToSign(i.amzDate, scope, creq));
  return params + '&X-Amz-Signature=' + signature;
}
