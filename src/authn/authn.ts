// Token-based access (AIStore's AuthN side in the nodes), on when the cluster config says auth.enabled.
// Every client request then carries a JWT, as `Authorization: Bearer <token>` (native API, `ais`, the
// Python SDK) or `X-Amz-Security-Token: <token>` (S3 clients: the session token of their credentials,
// which SigV4 signs with the request; presigned URLs carry it in the query). Each handler asks for the
// access bits its operation needs (access.ts). The S3 API answers with S3's
// codes (AccessDenied, InvalidToken, ExpiredToken), the native API with 401/403 and AIStore's JSON.
import { createPublicKey } from 'node:crypto';
import type { Node } from '../cluster/node';
import type { ClusterConfig } from '../cluster/config';
import { header, type Req } from '../api/http';
import { ApiError } from '../api/native';
import { INTRA_HEADER } from '../cluster/intra';
import { isForwarded } from '../proxy/route';
import { allowed, describeAccess } from './access';
import { TokenError, verifyToken, type Token } from './token';

/** The native API answers 401 without a usable token, 403 when the token does not grant the operation. */
export class AuthError extends ApiError {
  constructor(
    readonly reason: 'missing' | 'invalid' | 'expired' | 'denied',
    message: string,
  ) {
    super(reason === 'denied' ? 403 : 401, message);
  }
}

export function authnEnabled(config: ClusterConfig): boolean {
  return config.auth?.enabled === true;
}

/** What is wrong with the auth section, if anything (checked when a node starts). */
export function authnConfigError(config: ClusterConfig): string | undefined {
  const a = config.auth;
  if (a?.enabled !== true) return undefined;
  if (!a.secret && !a.public_key) return 'auth.enabled needs auth.secret (HS256 tokens) or auth.public_key (RS256 tokens)';
  if (a.public_key) {
    try {
      createPublicKey(a.public_key);
    } catch (err) {
      return `auth.public_key is not a PEM public key: ${(err as Error).message}`;
    }
  }
  return undefined;
}

const TOKEN_QUERY = /(?:^|&)X-Amz-Security-Token=([^&]*)/;

/** The request's token, or '' when it carries none. */
export function requestToken(req: Req): string {
  const authz = header(req, 'authorization');
  if (/^bearer /i.test(authz)) return authz.slice(7).trim(); // the scheme is case-insensitive (RFC 9110)
  const st = header(req, 'x-amz-security-token');
  if (st !== '') return st;
  const m = TOKEN_QUERY.exec(req.query);
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1]!; // malformed escapes: verified as sent, and refused
  }
}

// Verified tokens by their text: a client sends the same token with every request, and checking it
// once (HMAC, JSON) per token instead of per request keeps small GETs at their rate.
const verified = new Map<string, Token>();
const MAX_CACHED = 4096;

function tokenFor(config: ClusterConfig, jwt: string): Token {
  const now = Date.now();
  const hit = verified.get(jwt);
  if (hit) {
    if (hit.expires > now) return hit;
    verified.delete(jwt);
  }
  const tok = verifyToken(jwt, { secret: config.auth?.secret ?? '', publicKey: config.auth?.public_key ?? '' }, now);
  if (verified.size >= MAX_CACHED) verified.clear();
  verified.set(jwt, tok);
  return tok;
}

/**
 * Throws AuthError unless the request may do `need` (on `bucket`, when it names one). A no-op with auth
 * off. A client's request is checked on every node it passes (a gateway cannot always tell what a
 * request does before the node that reads its body does; verified tokens are cached); a request a node
 * makes itself (cluster secret, no token) is trusted.
 */
export function authorize(node: Node, req: Req, need: bigint, bucket?: { name: string; provider: string }): void {
  if (!authnEnabled(node.config)) return;
  const jwt = requestToken(req);
  if (jwt === '' && (isForwarded(node, req) || (node.secret !== '' && header(req, INTRA_HEADER) === node.secret))) return;
  if (jwt === '') throw new AuthError('missing', 'token required (auth is on): send "Authorization: Bearer <token>" or, with S3 clients, the token as the session token');
  let tok: Token;
  try {
    tok = tokenFor(node.config, jwt);
  } catch (err) {
    if (err instanceof TokenError) throw new AuthError(err.reason, err.message);
    throw err;
  }
  if (!allowed(tok, need, node.smap.data.uuid, bucket)) {
    const on = bucket ? ` on bucket ${bucket.provider}://${bucket.name}` : '';
    throw new AuthError('denied', `user "${tok.user}" may not ${describeAccess(need)}${on}`);
  }
}
