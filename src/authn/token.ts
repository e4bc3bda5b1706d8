// JWT bearer tokens (AIStore's AuthN): what a token says and whether to believe it. Written from RFC 7519
// (JWT) and RFC 7515 (JWS compact form): header.payload.signature, each base64url. Accepted algorithms:
// HS256/384/512 with the cluster's auth.secret, RS256/384/512 with auth.public_key (PEM). The algorithm
// must match the configured key's kind, so a public key is never used as an HMAC secret and "none" is
// never accepted. Claims are AuthN's: `username` (or `sub`), `expires` (RFC 3339, AuthN's older form) or
// `exp` (seconds), `admin`, and the ACLs `clusters` [{id, perm}] and `buckets` [{bck:{name, provider},
// perm}], perm being a decimal string of access bits (access.ts).
import { createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

export interface ClusterAcl {
  id: string;
  perm: bigint;
}

export interface BucketAcl {
  name: string;
  provider: string;
  perm: bigint;
}

export interface Token {
  user: string;
  /** Milliseconds since the epoch; Infinity for a token without expiry. */
  expires: number;
  admin: boolean;
  clusters: ClusterAcl[];
  buckets: BucketAcl[];
}

/** Why a token is refused: `expired` (a valid token past its time) or `invalid` (anything else). */
export class TokenError extends Error {
  constructor(
    readonly reason: 'invalid' | 'expired',
    message: string,
  ) {
    super(message);
  }
}

export interface TokenKeys {
  /** HMAC secret (HS*), or '' for none. */
  secret: string;
  /** PEM public key (RS*), or '' for none. */
  publicKey: string;
}

const HMAC_ALGS: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
const RSA_ALGS: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' };

const publicKeys = new Map<string, KeyObject>();
function publicKeyOf(pem: string): KeyObject {
  let k = publicKeys.get(pem);
  if (!k) {
    k = createPublicKey(pem);
    publicKeys.set(pem, k);
  }
  return k;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('invalid', `malformed token ${what}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TokenError('invalid', `malformed token ${what}`);
  return v as Record<string, unknown>;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Verifies a token's signature and reads its claims; throws TokenError. `now` in milliseconds. */
export function verifyToken(jwt: string, keys: TokenKeys, now = Date.now()): Token {
  const parts = jwt.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || parts[0] === '' || parts[1] === '') {
    throw new TokenError('invalid', 'malformed token (expected header.payload.signature, base64url)');
  }
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJson(h, 'header');
  const alg = typeof header['alg'] === 'string' ? header['alg'] : '';
  const signed = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  if (HMAC_ALGS[alg]) {
    if (keys.secret === '') throw new TokenError('invalid', `token signed with ${alg}, but the cluster has no auth.secret`);
    const want = createHmac(HMAC_ALGS[alg], keys.secret).update(signed).digest();
    if (want.length !== sig.length || !timingSafeEqual(want, sig)) throw new TokenError('invalid', 'token signature does not verify');
  } else if (RSA_ALGS[alg]) {
    if (keys.publicKey === '') throw new TokenError('invalid', `token signed with ${alg}, but the cluster has no auth.public_key`);
    if (!verify(RSA_ALGS[alg], signed, publicKeyOf(keys.publicKey), sig)) throw new TokenError('invalid', 'token signature does not verify');
  } else {
    throw new TokenError('invalid', `token algorithm "${alg}" is not accepted (HS256/384/512, RS256/384/512)`);
  }
  const claims = decodeJson(p, 'payload');
  const token = tokenOf(claims);
  if (token.expires <= now) throw new TokenError('expired', `token of "${token.user}" expired at ${new Date(token.expires).toISOString()}`);
  const nbf = claims['nbf'];
  if (typeof nbf === 'number' && nbf * 1000 > now + 60_000) throw new TokenError('invalid', 'token not valid yet (nbf)');
  return token;
}

function tokenOf(c: Record<string, unknown>): Token {
  const user = typeof c['username'] === 'string' ? c['username'] : typeof c['sub'] === 'string' ? c['sub'] : '';
  let expires = Infinity;
  if (typeof c['exp'] === 'number') expires = c['exp'] * 1000;
  else if (typeof c['expires'] === 'string') {
    expires = Date.parse(c['expires']);
    if (Number.isNaN(expires)) throw new TokenError('invalid', `token "expires" is not a time: ${c['expires']}`);
  } else if (c['exp'] !== undefined || c['expires'] !== undefined) throw new TokenError('invalid', 'token expiry claim has the wrong type');
  return {
    user,
    expires,
    admin: c['admin'] === true,
    clusters: list(c['clusters']).map((a) => ({ id: str(a['id']), perm: perm(a['perm']) })),
    buckets: list(c['buckets']).map((a) => {
      const bck = a['bck'] !== null && typeof a['bck'] === 'object' ? (a['bck'] as Record<string, unknown>) : {};
      return { name: str(bck['name']), provider: str(bck['provider']) || 'ais', perm: perm(a['perm']) };
    }),
  };
}

function list(v: unknown): Record<string, unknown>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new TokenError('invalid', 'token ACL claim is not a list');
  return v.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object');
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** AuthN writes access bits as a decimal string ("perm": "1023"); a number is taken too. */
function perm(v: unknown): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt.asUintN(64, BigInt(v));
  if (v === undefined || v === '') return 0n;
  throw new TokenError('invalid', `token ACL "perm" is not a number: ${JSON.stringify(v)}`);
}

/** Signs a token (HS256 with `secret`): what `ais auth token` prints, and what the tests use. */
export function signToken(claims: Record<string, unknown>, secret: string, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256'): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc({ alg, typ: 'JWT' })}.${enc(claims)}`;
  return `${body}.${createHmac(HMAC_ALGS[alg]!, secret).update(body).digest('base64url')}`;
}
