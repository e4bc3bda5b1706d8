// Calls between nodes: small control messages (metadata, join, keepalive, listing pages) as msgpack over
// HTTP/1.1 with keep-alive. Every call carries the cluster secret in `ais-intra`, which the receiving
// node checks on its intra-cluster routes (src/api/intra.ts).
import http from 'node:http';
import https from 'node:https';
import { keepAliveAgent, keepAliveHttpsAgent } from '../util/agent';
import { pack, unpack } from 'msgpackr';
import { setIntraTlsClient, intraTlsClient } from './intra-tls';
import type { IntraAddr } from './snode';

export const INTRA_HEADER = 'ais-intra';
/** Marks a request forwarded by a gateway: the receiving target serves it locally, never forwards again. */
export const FWD_HEADER = 'ais-fwd';
export const MSGPACK = 'application/msgpack';

const agent = keepAliveAgent({ maxSockets: 64 });
let tlsAgent: https.Agent | undefined;

/**
 * How this node verifies others over TLS: a join sent to the primary's public https:// URL
 * (--primary), and every call to a node whose intra-cluster port speaks HTTPS (--intra-tls; plain HTTP
 * otherwise), against `ca` (PEM: AIS_CLIENT_CA, or the node's own certificate, the usual case of one
 * certificate or CA for the cluster) unless skipVerify.
 */
export function setIntraTls(opts: { ca?: Buffer; skipVerify?: boolean }): void {
  setIntraTlsClient(opts);
  tlsAgent = keepAliveHttpsAgent({ maxSockets: 64, ...intraTlsClient() });
}

/** Keep-alive agents for one kind of intra-cluster traffic: plain HTTP, and HTTPS (made when first needed). */
export class IntraAgents {
  readonly plain: http.Agent;
  private secure: https.Agent | undefined;

  constructor(private readonly opts: http.AgentOptions) {
    this.plain = keepAliveAgent(opts);
  }

  /** A request to another node's intra-cluster address, over TLS when that node asks for it. */
  request(addr: IntraAddr, options: http.RequestOptions, cb?: (res: http.IncomingMessage) => void): http.ClientRequest {
    const o = { ...options, host: addr.host, port: addr.port };
    if (!addr.tls) return http.request({ ...o, agent: this.plain }, cb);
    this.secure ??= keepAliveHttpsAgent({ ...this.opts, ...addr.tls });
    return https.request({ ...o, agent: this.secure }, cb);
  }
}

export interface IntraReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class IntraError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** The other node's own message (what a gateway passes on to its client). */
    readonly detail = message,
  ) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  body?: Uint8Array;
  secret?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** One request to another node; resolves with whatever status it answers, rejects on network errors. */
export function intraCall(baseUrl: string, path: string, opts: CallOptions = {}): Promise<IntraReply> {
  // The path goes as given: resolved as a URL, an object name's '.' and '..' segments would be
  // collapsed and the call would reach another object or route.
  const u = new URL(baseUrl);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.secret) headers[INTRA_HEADER] = opts.secret;
  if (opts.body) {
    headers['content-type'] ??= MSGPACK;
    headers['content-length'] = String(opts.body.length);
  }
  return new Promise((resolve, reject) => {
    const tls = u.protocol === 'https:';
    const req = (tls ? https.request : http.request)(
      { agent: tls ? (tlsAgent ??= keepAliveHttpsAgent({ maxSockets: 64 })) : agent, hostname: u.hostname, port: u.port, path, method: opts.method ?? 'GET', headers, timeout: opts.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout calling ${u.host}${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A call whose answer must be 2xx with a msgpack body (or none): the decoded value. */
export async function intraMsg<T>(baseUrl: string, path: string, opts: CallOptions = {}): Promise<T> {
  const r = await intraCall(baseUrl, path, opts);
  if (r.status < 200 || r.status > 299) {
    let msg = r.body.toString('utf8').slice(0, 300);
    try {
      msg = (JSON.parse(msg) as { message?: string }).message ?? msg;
    } catch {
      // not JSON
    }
    throw new IntraError(`${opts.method ?? 'GET'} ${baseUrl}${path}: ${r.status} ${msg}`, r.status, msg);
  }
  return (r.body.length ? unpack(r.body) : undefined) as T;
}

/** The path of an object on another node's S3 API ('/' kept between segments: a name is never resolved as a URL, so its '.' and '..' segments reach the node as they are). */
export function s3Path(bucket: string, objName: string): string {
  return `/s3/${encodeURIComponent(bucket)}/${objName.split('/').map(encodeURIComponent).join('/')}`;
}

/** The same on the native API (/v1/objects). */
export function objectsPath(bucket: string, objName: string): string {
  return `/v1/objects/${encodeURIComponent(bucket)}/${objName.split('/').map(encodeURIComponent).join('/')}`;
}

export function packMsg(v: unknown): Buffer {
  return pack(v);
}
