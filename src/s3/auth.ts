// S3 request authentication (AWS Signature Version 4), between routing and dispatch (proxy/prxs3.ts).
// Off unless the cluster config lists access keys (auth.s3.keys): then every request must carry a
// valid SigV4 signature, in the Authorization header or in the query (presigned URL). The signature
// primitives are in sigv4.ts; the streaming chunk-signature chain and the payload hash check that
// need the body are in sigv4-stream.ts, fed by the handlers that read bodies.
import type { Req } from '../api/http';
import type { ClusterConfig } from '../cluster/config';
import { s3err, S3Error } from './errors';
import {
  ALGORITHM,
  UNSIGNED_PAYLOAD,
  canonicalQuery,
  canonicalRequest,
  parseAmzDate,
  signHex,
  signaturesEqual,
  signingKey,
  stringToSign,
} from './sigv4';

export const DEFAULT_MAX_SKEW_S = 900;
/** The longest validity of a presigned URL (7 days), as S3. */
export const MAX_PRESIGNED_EXPIRES_S = 604800;

/** What a verified request carries on to the body handlers. */
export interface AuthInfo {
  readonly accessKey: string;
  readonly signingKey: Buffer;
  /** "YYYYMMDD/region/s3/aws4_request". */
  readonly scope: string;
  /** The request timestamp, "YYYYMMDDTHHMMSSZ". */
  readonly amzDate: string;
  /** The request's signature: the seed of a chunk-signature chain. */
  readonly signature: string;
  /** x-amz-content-sha256 (header form), '' for presigned requests. */
  readonly contentSha256: string;
}

const infos = new WeakMap<Req, AuthInfo>();

/** The verified credentials of a request, undefined when authentication is off. */
export function authOf(req: Req): AuthInfo | undefined {
  return infos.get(req);
}

/** Whether the cluster config turns authentication on (at least one access key). */
export function authEnabled(config: ClusterConfig): boolean {
  const keys = config.auth?.s3?.keys;
  return keys !== undefined && keys !== null && Object.keys(keys).length > 0;
}

// Signing keys are valid for a day per (key, date, region): cache them, it saves four HMACs a request.
const keyCache = new Map<string, Buffer>();
function cachedSigningKey(accessKey: string, secret: string, date: string, region: string): Buffer {
  const id = accessKey + '\0' + secret + '\0' + date + '\0' + region;
  let k = keyCache.get(id);
  if (k === undefined) {
    if (keyCache.size > 1024) keyCache.clear();
    k = signingKey(secret, date, region, 's3');
    keyCache.set(id, k);
  }
  return k;
}

interface Parsed {
  accessKey: string;
  date: string;
  region: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
  /** Raw query string to canonicalize, and the parameter to leave out (presigned: the signature). */
  omit?: string;
  presigned?: { expires: number };
}

function malformed(message: string): S3Error {
  return s3err('AuthorizationHeaderMalformed', message);
}

const HEX64 = /^[0-9a-f]{64}$/;
const V2_UNSUPPORTED = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

/**
 * Verifies the request's signature when authentication is on; throws the S3 error otherwise.
 * @param path the path after the "/s3" prefix (what routeS3 saw); equal to req.url without a prefix
 */
export function authenticateS3(config: ClusterConfig, req: Req, path: string, now = Date.now()): void {
  if (!authEnabled(config)) return;
  const conf = config.auth!.s3!;
  const keys = conf.keys!;
  const maxSkewMs = (conf.max_skew_s ?? DEFAULT_MAX_SKEW_S) * 1000;
  const authz = req.headers['authorization'];
  const queryForm = /(^|&)X-Amz-Signature=/.test(req.query) || /(^|&)X-Amz-Credential=/.test(req.query);
  let p: Parsed;
  if (authz !== undefined && authz !== '') {
    if (queryForm) throw s3err('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified', { ArgumentName: 'Authorization', ArgumentValue: authz });
    p = parseHeaderAuth(req, authz);
  } else if (queryForm) {
    p = parseQueryAuth(req);
  } else if (/(^|&)Signature=/.test(req.query) && /(^|&)AWSAccessKeyId=/.test(req.query)) {
    throw s3err('InvalidRequest', V2_UNSUPPORTED); // a SigV2 presigned URL (boto3's default for presigning)
  } else {
    throw s3err('AccessDenied');
  }

  const secret = Object.hasOwn(keys, p.accessKey) ? keys[p.accessKey] : undefined;
  if (typeof secret !== 'string') throw s3err('InvalidAccessKeyId', undefined, { AWSAccessKeyId: p.accessKey });

  const t = parseAmzDate(p.amzDate);
  if (Number.isNaN(t)) {
    if (p.presigned) throw s3err('AuthorizationHeaderMalformed', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
    throw s3err('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  if (p.amzDate.slice(0, 8) !== p.date) {
    if (p.presigned) throw s3err('AuthorizationHeaderMalformed', `Invalid credential date "${p.date}". This date is not the same as X-Amz-Date: "${p.amzDate.slice(0, 8)}".`);
    throw malformed(`The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.`);
  }
  if (p.presigned) {
    if (t - now > maxSkewMs) throw s3err('AccessDenied', 'Request is not valid yet');
    if (now > t + p.presigned.expires * 1000) throw s3err('AccessDenied', 'Request has expired', { XAmzExpires: String(p.presigned.expires), Expires: new Date(t + p.presigned.expires * 1000).toISOString(), ServerTime: new Date(now).toISOString() });
  } else if (Math.abs(now - t) > maxSkewMs) {
    throw s3err('RequestTimeTooSkewed', undefined, { RequestTime: p.amzDate, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: String(maxSkewMs) });
  }

  const key = cachedSigningKey(p.accessKey, secret, p.date, p.region);
  const scope = `${p.date}/${p.region}/s3/aws4_request`;
  const query = canonicalQuery(req.query, p.omit);
  const host = req.headers['host'] ?? '';
  const header = (n: string): string => req.headers[n] ?? '';
  // As received first; then s3cmd's form with host_base = HOST:PORT/s3: it signs the path without the
  // "/s3" prefix and the host with "/s3" appended, while it sends the full path and the bare host.
  const candidates: { path: string; header: (n: string) => string }[] = [{ path: req.url, header }];
  if (path !== req.url && req.url.startsWith('/s3')) {
    candidates.push({ path: path === '' ? '/' : path, header: (n) => (n === 'host' ? host + '/s3' : header(n)) });
  }
  let first: { creq: string; sts: string } | undefined;
  for (const c of candidates) {
    const creq = canonicalRequest({ method: req.method, path: c.path, query, signedHeaders: p.signedHeaders, header: c.header, payloadHash: p.payloadHash });
    const sts = stringToSign(p.amzDate, scope, creq);
    if (signaturesEqual(signHex(key, sts), p.signature)) {
      infos.set(req, { accessKey: p.accessKey, signingKey: key, scope, amzDate: p.amzDate, signature: p.signature, contentSha256: p.presigned ? '' : p.payloadHash });
      return;
    }
    first ??= { creq, sts };
  }
  throw s3err('SignatureDoesNotMatch', undefined, {
    AWSAccessKeyId: p.accessKey,
    StringToSign: first!.sts,
    SignatureProvided: p.signature,
    CanonicalRequest: first!.creq,
  });
}

/** "AWS4-HMAC-SHA256 Credential=AKID/date/region/s3/aws4_request, SignedHeaders=a;b, Signature=hex". */
function parseHeaderAuth(req: Req, authz: string): Parsed {
  const sp = authz.indexOf(' ');
  const algorithm = sp < 0 ? authz : authz.slice(0, sp);
  if (algorithm !== ALGORITHM) {
    if (algorithm === 'AWS') throw s3err('InvalidRequest', V2_UNSUPPORTED);
    throw malformed(`The authorization header is malformed; unsupported algorithm "${algorithm}".`);
  }
  const fields = new Map<string, string>();
  for (const part of authz.slice(sp + 1).split(',')) {
    const s = part.trim();
    if (s === '') continue;
    const eq = s.indexOf('=');
    if (eq <= 0) throw malformed(`The authorization header is malformed; "${s}" is not a key=value pair.`);
    fields.set(s.slice(0, eq).trim(), s.slice(eq + 1).trim());
  }
  const cred = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (cred === undefined || signed === undefined || signature === undefined) {
    throw malformed('The authorization header is malformed; it must hold Credential, SignedHeaders and Signature.');
  }
  const { accessKey, date, region } = parseCredential(cred, (m) => malformed(`The authorization header is malformed; ${m}`));
  const signedHeaders = parseSignedHeaders(signed, (m) => malformed(`The authorization header is malformed; ${m}`));
  if (!/^[0-9a-f]{64}$/.test(signature)) throw malformed('The authorization header is malformed; the signature is not 64 hex digits.');
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (payloadHash === undefined || payloadHash === '') throw s3err('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (!HEX64.test(payloadHash) && payloadHash !== UNSIGNED_PAYLOAD && !payloadHash.startsWith('STREAMING-')) {
    throw s3err('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-* or a valid sha256 value.', { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash });
  }
  if (payloadHash.startsWith('STREAMING-AWS4-ECDSA')) throw s3err('InvalidRequest', 'SigV4a (ECDSA) signatures are not supported; sign with AWS4-HMAC-SHA256.');
  let amzDate = req.headers['x-amz-date'] ?? '';
  if (amzDate === '' && req.headers['date']) {
    const ms = Date.parse(req.headers['date']);
    if (!Number.isNaN(ms)) amzDate = new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  }
  return { accessKey, date, region, signedHeaders, signature, amzDate, payloadHash };
}

function parseQueryAuth(req: Req): Parsed {
  const q = new Map<string, string>();
  for (const part of req.query.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq);
    if (!name.startsWith('X-Amz-')) continue;
    let v: string;
    try {
      v = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      throw bad('the query parameters are not properly encoded');
    }
    q.set(name, v);
  }
  function bad(m: string): S3Error {
    return s3err('AuthorizationHeaderMalformed', `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; ${m}`);
  }
  const algorithm = q.get('X-Amz-Algorithm');
  const cred = q.get('X-Amz-Credential');
  const amzDate = q.get('X-Amz-Date');
  const expires = q.get('X-Amz-Expires');
  const signed = q.get('X-Amz-SignedHeaders');
  const signature = q.get('X-Amz-Signature');
  if (algorithm === undefined || cred === undefined || amzDate === undefined || expires === undefined || signed === undefined || signature === undefined) {
    throw bad('some are missing');
  }
  if (algorithm !== ALGORITHM) throw bad(`X-Amz-Algorithm must be ${ALGORITHM}`);
  const n = /^\d{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(n >= 1)) throw bad('X-Amz-Expires must be a positive number of seconds');
  if (n > MAX_PRESIGNED_EXPIRES_S) throw s3err('AuthorizationHeaderMalformed', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  const { accessKey, date, region } = parseCredential(cred, (m) => bad(m));
  const signedHeaders = parseSignedHeaders(signed, (m) => bad(m));
  if (!/^[0-9a-f]{64}$/.test(signature)) throw bad('X-Amz-Signature is not 64 hex digits');
  const payloadHash = q.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD;
  return { accessKey, date, region, signedHeaders, signature, amzDate, payloadHash, omit: 'X-Amz-Signature', presigned: { expires: n } };
}

function parseCredential(cred: string, err: (m: string) => S3Error): { accessKey: string; date: string; region: string } {
  // The access key may not contain '/', the scope is the last four elements.
  const parts = cred.split('/');
  if (parts.length !== 5) throw err(`the Credential "${cred}" must be AKID/date/region/s3/aws4_request.`);
  const [accessKey, date, region, service, terminal] = parts as [string, string, string, string, string];
  if (accessKey === '' || !/^\d{8}$/.test(date) || region === '') throw err(`the Credential "${cred}" must be AKID/date/region/s3/aws4_request.`);
  if (service !== 's3') throw err(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminal !== 'aws4_request') throw err(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  return { accessKey, date, region };
}

function parseSignedHeaders(signed: string, err: (m: string) => S3Error): string[] {
  const names = signed.split(';');
  for (const n of names) if (n === '' || n !== n.toLowerCase() || n.trim() !== n) throw err(`invalid SignedHeaders "${signed}".`);
  if (!names.includes('host')) throw err('SignedHeaders must include host.');
  return names;
}
