// Presigned request offload (feature S3-Presigned-Request): a GET, HEAD or PUT on an s3:// bucket that
// carries an S3 signature made for the remote (a presigned URL's query, or a SigV4 Authorization
// header) is re-issued by the owner target to the remote as it is — same method, query and signed
// headers, Host = the remote's — so the remote, which holds the keys, decides. AIStore does the same
// (ais/s3/presigned.go). Where the request goes: the bucket's endpoint path-style
// (<endpoint>/<bucket>/<key>), or AWS virtual-hosted (https://<bucket>.s3.<region>.amazonaws.com/<key>)
// unless the client sends `ais-s3-signed-request-style: path`.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { Req } from '../api/http';
import type { BucketProps } from '../cluster/config';
import { BackendError, type RemoteObject } from './s3';
import { keepAliveAgent, keepAliveHttpsAgent } from '../util/agent';

/**
 * Why a signed PUT cannot be re-issued as it is, or undefined when it can: the remote verifies the
 * payload as the client signed it, and a streaming (aws-chunked) body was decoded here — its chunk
 * signatures cannot be sent again.
 */
export function putNotReissuable(req: Req): string | undefined {
  const sha = (req.headers['x-amz-content-sha256'] ?? '').toUpperCase();
  if (sha.startsWith('STREAMING-') || (req.headers['content-encoding'] ?? '').includes('aws-chunked')) {
    return 'a presigned PUT with an aws-chunked (streaming) body cannot be offloaded: sign it with UNSIGNED-PAYLOAD or the payload hash';
  }
  return undefined;
}

/** The client signed its Range header: the remote must get it, so the object cannot be fetched whole. */
export function rangeIsSigned(req: Req): boolean {
  return (req.headers['range'] ?? '') !== '' && signedHeaders(req).has('range');
}

/** True when the request carries a client's S3 signature (query or header). */
export function hasS3Signature(req: Req): boolean {
  return /(^|&)X-Amz-(Signature|Credential)=/.test(req.query) || (req.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256');
}

/** The headers the client signed (lower-case), from the query or the Authorization header. */
function signedHeaders(req: Req): Set<string> {
  const q = /(?:^|&)X-Amz-SignedHeaders=([^&]*)/.exec(req.query)?.[1];
  const h = /SignedHeaders=([^,\s]+)/.exec(req.headers['authorization'] ?? '')?.[1];
  return new Set(decodeURIComponent(q ?? h ?? 'host').toLowerCase().split(';'));
}

/** The remote URL the signature was made for: `rawKey` is the key as the client sent it (still encoded). */
export function presignedUrl(req: Req, props: BucketProps, bucket: string, rawKey: string): URL {
  const aws = props.extra?.aws;
  const query = req.query ? `?${req.query}` : '';
  if (aws?.endpoint) return new URL(`${aws.endpoint.replace(/\/+$/, '')}/${bucket}/${rawKey}${query}`);
  const region = aws?.cloud_region || 'us-east-1';
  if ((req.headers['ais-s3-signed-request-style'] ?? '').toLowerCase() === 'path') return new URL(`https://s3.${region}.amazonaws.com/${bucket}/${rawKey}${query}`);
  return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${rawKey}${query}`);
}

// Keep-alive agents for GET/HEAD re-issues that drop idle sockets before a server does (util/agent.ts):
// Node's global agent would reuse one the remote is closing.
const httpAgent = keepAliveAgent({ maxSockets: 64 });
const httpsAgent = keepAliveHttpsAgent({ maxSockets: 64 });

// Not passed on: hop-by-hop, our own, and what the client addressed to us rather than to the remote.
const DROP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'content-length', 'te', 'trailer', 'proxy-connection']);

export interface Reissued {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Readable;
}

/**
 * Sends the client's signed request to `url`. `probe`: a 1-byte Range GET (when the client did not
 * sign a Range header) — enough for the remote to authorize the request and tell its ETag.
 */
export function reissue(req: Req, url: URL, method: 'GET' | 'HEAD' | 'PUT', probe: boolean, body?: { stream: Readable; size: number }): Promise<Reissued> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (!DROP.has(k) && !k.startsWith('ais-')) headers[k] = v;
  headers.host = url.host;
  // The whole object is fetched (then the client's range served from it): an unsigned Range goes.
  if (!signedHeaders(req).has('range')) delete headers.range;
  if (probe && !signedHeaders(req).has('range')) headers.range = 'bytes=0-0';
  if (body) headers['content-length'] = String(body.size);
  const tls = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const opts = { method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers, timeout: 5 * 60_000 };
    const onRes = (res: http.IncomingMessage): void => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: res });
    // A PUT goes on a connection of its own: its body cannot be sent again if a reused connection turns
    // out closed (an earlier request's early answer, a server's idle timeout), which failed under load.
    const r = tls ? https.request({ ...opts, agent: body ? false : httpsAgent }, onRes) : http.request({ ...opts, agent: body ? false : httpAgent }, onRes);
    r.on('timeout', () => r.destroy(new Error('remote timed out')));
    // Unreachable or cut: 503 for the client (BackendError), which may retry.
    r.on('error', (err) => reject(new BackendError(503, 'RemoteUnreachable', `remote ${url.host}: ${err.message}`)));
    if (!body) return r.end();
    body.stream.on('error', (err) => r.destroy(err));
    body.stream.pipe(r);
  });
}

/** The remote object's props from a response's headers (full size from Content-Range on a 206). */
export function remoteObjectOf(h: http.IncomingHttpHeaders): RemoteObject {
  const total = /\/(\d+)$/.exec(String(h['content-range'] ?? ''))?.[1];
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') meta[k.slice(11)] = v;
  const version = h['x-amz-version-id'];
  return {
    size: Number(total ?? h['content-length'] ?? -1),
    etag: String(h.etag ?? '').replace(/^"|"$/g, ''),
    ...(typeof version === 'string' && version !== 'null' ? { version } : {}),
    mtime: Date.parse(String(h['last-modified'] ?? '')) || Date.now(),
    ...(typeof h['content-type'] === 'string' ? { contentType: h['content-type'] } : {}),
    ...(Object.keys(meta).length ? { meta } : {}),
  };
}
