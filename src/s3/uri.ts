// Percent-decoding of request paths and queries, and the percent-encoding of listings with
// encoding-type=url. Strict on input: a malformed escape or bytes that are not UTF-8 are a 400,
// never a guess (a guessed key is a different object).

import { s3err } from './errors';

// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM: a key may start with U+FEFF
// and the default decoder would silently strip it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hexVal(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/**
 * Decodes %XX escapes (RFC 3986) and the UTF-8 they spell. With plusIsSpace, '+' means ' ' (query
 * strings: HTML form rules, which S3 and Go's url.ParseQuery, hence AIStore, apply). In a path '+' is
 * a literal plus: SDKs send %2B for a plus and %20 for a space, and RFC 3986 gives '+' no meaning.
 * Throws InvalidURI on '%' not followed by two hex digits and on bytes that are not UTF-8.
 */
export function percentDecode(s: string, plusIsSpace: boolean): string {
  if (s.indexOf('%') < 0) return plusIsSpace && s.indexOf('+') >= 0 ? s.replace(/\+/g, ' ') : s;
  // '%' and hex digits are ASCII, so decoding in place over the UTF-8 bytes is safe; non-ASCII
  // characters already present in s pass through as their own UTF-8.
  const b = Buffer.from(s, 'utf8');
  let j = 0;
  let high = 0; // OR of all output bytes: < 0x80 means plain ASCII, no UTF-8 decoding needed
  for (let i = 0; i < b.length; i++) {
    let c = b[i] as number;
    if (c === 0x25) {
      const hi = i + 2 < b.length ? hexVal(b[i + 1] as number) : -1;
      const lo = hi >= 0 ? hexVal(b[i + 2] as number) : -1;
      if (lo < 0) throw s3err('InvalidURI', "Couldn't parse the specified URI: malformed percent-encoding.");
      c = (hi << 4) | lo;
      i += 2;
    } else if (plusIsSpace && c === 0x2b) {
      c = 0x20;
    }
    b[j++] = c;
    high |= c;
  }
  if (high < 0x80) return b.toString('latin1', 0, j);
  try {
    return utf8.decode(b.subarray(0, j));
  } catch {
    throw s3err('InvalidURI', "Couldn't parse the specified URI: percent-encoded bytes are not UTF-8.");
  }
}

/**
 * Parses a raw query string (no leading '?'). A parameter without '=' maps to '' (sub-resources like
 * "?uploads"). When a name repeats, the first value wins.
 */
export function parseQuery(raw: string): Map<string, string> {
  const q = new Map<string, string>();
  if (raw === '') return q;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq), true);
    if (q.has(name)) continue;
    q.set(name, eq < 0 ? '' : percentDecode(part.slice(eq + 1), true));
  }
  return q;
}

// Left as is in listings: what Amazon S3 leaves (Java's URLEncoder set A-Z a-z 0-9 - _ . * plus '/';
// '~' is escaped), cf. MinIO's s3URLEncode that mirrors S3.
const LISTING_SAFE = /^[A-Za-z0-9\-_.*/]*$/;
const HEX = '0123456789ABCDEF';

/**
 * Percent-encodes a key, prefix, delimiter or marker for a listing with encoding-type=url.
 * One deliberate difference from Amazon S3: S3 writes a space as '+', we write '%20'. Both decode to
 * the same key with botocore's unquote_plus (what boto3 and the AWS CLI apply), Go's
 * url.QueryUnescape and Java's URLDecoder; only '%20' also survives decodeURIComponent and Go's
 * url.PathUnescape, which users of the JS and Go SDKs reach for (a literal '+' is always '%2B').
 */
export function listingUrlEncode(s: string): string {
  if (LISTING_SAFE.test(s)) return s;
  let e: string;
  try {
    e = encodeURIComponent(s); // native and fast; differs from our set only in / ! ~ ' ( )
  } catch {
    return encodeBytes(s); // lone surrogate: encodeURIComponent throws, UTF-8 makes it U+FFFD
  }
  if (e.indexOf('%2F') >= 0) e = e.replace(/%2F/g, '/');
  if (UNRESERVED_BUT_NOT_BY_S3.test(e)) e = e.replace(UNRESERVED_BUT_NOT_BY_S3_G, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return e;
}

const UNRESERVED_BUT_NOT_BY_S3 = /[!~'()]/;
const UNRESERVED_BUT_NOT_BY_S3_G = /[!~'()]/g;

function encodeBytes(s: string): string {
  const b = Buffer.from(s, 'utf8');
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (
      (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
      c === 0x2d || c === 0x5f || c === 0x2e || c === 0x2a || c === 0x2f
    ) {
      out += String.fromCharCode(c);
    } else {
      out += '%' + HEX[c >> 4] + HEX[c & 15];
    }
  }
  return out;
}
