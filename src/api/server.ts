// The HTTP front end of a node (uWebSockets.js): S3 under /s3 (and at the root with the S3-API-via-Root
// feature), the native API under /v1.
import { uws, type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from '../util/uws';
import { forwardRequest } from '../proxy/forward';
import { captureRequest, reply } from './http';
import { handleS3 } from '../proxy/prxs3';
import { virtualHostBucket } from '../s3/vhost';
import { handleBucketsV1 } from './buckets';
import { prometheusText } from './metrics';
import { registerIntra } from './intra';
import { handleObjectsV1 } from './objects';
import { handleEtlV1 } from './etl';
import { handleReverse } from './mountpaths';
import { handleClusterV1 } from './cluster';
import type { Node } from '../cluster/node';

export interface Server {
  /** The uWS apps: one, or with TLS the public (HTTPS) one and the intra-cluster (plain) one. */
  apps: TemplatedApp[];
  port: number;
  /** With TLS: the plain-HTTP port other nodes use (Snode.intraPort). */
  intraPort?: number;
  close(): void;
  /** Also listen on 127.0.0.1 at a free port: where the extra HTTP threads send control requests. */
  listenPrivate(): Promise<number>;
}

export interface ServerOptions {
  /**
   * Set in an extra HTTP thread (http-threads.ts): the main thread's private port. The thread serves
   * S3, native object requests and health itself; every other route is streamed to the main thread.
   */
  mainPort?: number;
  /** Called first in every request (an HTTP thread catches up with the main thread's metadata). */
  onRequest?: () => void;
  /** Serve HTTPS on the public port with this certificate and key (PEM files), and plain HTTP for the
   *  other nodes on intraPort (0: a free port). */
  tls?: TlsFiles;
  intraPort?: number;
  /** With `tls`: the intra-cluster port speaks HTTPS too, with the same certificate (aisnode --intra-tls). */
  intraTls?: boolean;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

type Handler = (res: HttpResponse, req: HttpRequest) => void;

export function startServer(node: Node, host: string, port: number, opts: ServerOptions = {}): Promise<Server> {
  const plain = uws.App();
  routes(plain, node, opts);
  let pub = plain;
  let intra = plain;
  if (opts.tls) {
    pub = uws.SSLApp({ cert_file_name: opts.tls.cert, key_file_name: opts.tls.key });
    routes(pub, node, opts);
    if (opts.intraTls) {
      intra = uws.SSLApp({ cert_file_name: opts.tls.cert, key_file_name: opts.tls.key });
      routes(intra, node, opts);
    }
  }
  const listen = (app: TemplatedApp, h: string, p: number): Promise<us_listen_socket> =>
    new Promise((resolve, reject) => {
      app.listen(h, p, (sock: us_listen_socket | false) => (sock ? resolve(sock) : reject(new Error(`cannot listen on ${h}:${p}${app === pub && opts.tls ? ' (HTTPS: are the certificate and key readable, PEM, and a pair?)' : ''}`))));
    });
  const on = (app: TemplatedApp, p: number): Promise<us_listen_socket> => (p === 0 ? listenOnFreePort((h, q) => listen(app, h, q), host) : listen(app, host, p));
  return on(pub, port).then(async (sock) => {
    const socks = [sock];
    const pubPort = uws.us_socket_local_port(sock);
    let intraPort: number | undefined;
    if (opts.tls) {
      const isock = await on(intra, opts.intraPort ?? 0);
      socks.push(isock);
      intraPort = uws.us_socket_local_port(isock);
    }
    // servePort lets large GETs go out by sendfile(2) on the socket: never under TLS (raw bytes).
    if (node.isTarget) node.target.servePort = opts.tls ? -1 : pubPort;
    return {
      apps: pub === plain ? [plain] : intra === plain ? [pub, plain] : [pub, intra, plain],
      port: pubPort,
      ...(intraPort !== undefined ? { intraPort } : {}),
      close: () => socks.forEach((s) => uws.us_listen_socket_close(s)),
      // Plain HTTP on loopback, also with TLS: what the extra HTTP threads forward to.
      listenPrivate: () =>
        listen(plain, '127.0.0.1', 0).then((s) => {
          socks.push(s);
          return uws.us_socket_local_port(s);
        }),
    };
  });
}

/** Every route of a node on one uWS app. */
function routes(app: TemplatedApp, node: Node, opts: ServerOptions): void {
  const sync = opts.onRequest;
  const on = (method: 'any' | 'get', route: string, h: Handler): void => {
    app[method](route, sync ? (res, req) => (sync(), h(res, req)) : h);
  };
  const toMain = (res: HttpResponse, req: HttpRequest): void => {
    const r = captureRequest(res, req);
    forwardRequest(res, r, { host: '127.0.0.1', port: opts.mainPort! }, r.query ? `${r.url}?${r.query}` : r.url);
  };
  on('any', '/s3', (res, req) => {
    const r = captureRequest(res, req);
    handleS3(node, res, r, '/');
  });
  on('any', '/s3/*', (res, req) => {
    const r = captureRequest(res, req);
    handleS3(node, res, r, r.url.slice(3));
  });
  // 200 once the node is in a cluster map (its own, or the primary's after joining).
  on('get', '/v1/health', (res, req) => {
    const r = captureRequest(res, req);
    if (node.ready) reply(res, r, '200 OK', [['Ais-Node-Uptime', String((Date.now() - node.startedAt) * 1e6)]]);
    else reply(res, r, '503 Service Unavailable', [['Content-Type', 'application/json']], JSON.stringify({ message: 'joining the cluster', status: 503 }));
  });
  on('any', '/v1/objects/*', (res, req) => {
    // An inline ETL GET needs the transformer connections, which the main thread holds.
    if (opts.mainPort !== undefined && req.getQuery('etl_name')) return toMain(res, req);
    handleObjectsV1(node, res, captureRequest(res, req));
  });
  if (opts.mainPort !== undefined) {
    // Everything else is the main thread's: intra-cluster and admin routes, buckets, metrics (summed there).
    for (const route of ['/metrics', '/v1', '/v1/*']) on('any', route, toMain);
  } else {
    app.get('/metrics', (res, req) => {
      const r = captureRequest(res, req);
      const body = node.isTarget ? prometheusText(node.target.stats.snapshot(), node.self?.id ?? `t${node.target.servePort}`) : '';
      reply(res, r, '200 OK', [['Content-Type', 'text/plain; version=0.0.4']], body);
    });
    registerIntra(app, node);
    for (const route of ['/v1/buckets', '/v1/buckets/*']) {
      app.any(route, (res, req) => handleBucketsV1(node, res, captureRequest(res, req)));
    }
    for (const scope of ['cluster', 'daemon'] as const) {
      for (const route of [`/v1/${scope}`, `/v1/${scope}/*`]) app.any(route, (res, req) => handleClusterV1(node, res, captureRequest(res, req), scope));
    }
    for (const route of ['/v1/etl', '/v1/etl/*']) app.any(route, (res, req) => handleEtlV1(node, res, captureRequest(res, req)));
    app.any('/v1/reverse/daemon/*', (res, req) => handleReverse(node, res, captureRequest(res, req)));
    app.any('/v1/reverse/daemon', (res, req) => handleReverse(node, res, captureRequest(res, req)));
    // Anything else under /v1 is answered at once: AIStore's clients retry 500 and 503 for minutes.
    app.any('/v1/*', (res, req) => {
      const r = captureRequest(res, req);
      res.onData(() => {});
      reply(res, r, '501 Not Implemented', [['Content-Type', 'application/json']], JSON.stringify({ message: `${r.method} ${r.url} is not supported by tais`, status: 501 }));
    });
  }
  on('any', '/*', (res, req) => {
    const r = captureRequest(res, req);
    // At the root: S3 with S3-API-via-Root, or a virtual-hosted request (its Host names a bucket).
    if (node.config.features.includes('S3-API-via-Root') || virtualHostBucket(node.config.s3?.virtual_host_domain, r.headers['host']) !== undefined) {
      return handleS3(node, res, r, r.url);
    }
    reply(res, r, '404 Not Found', [['Content-Type', 'application/json']], JSON.stringify({ message: `no such path: ${r.url} (S3 is served under /s3)`, status: 404 }));
  });
}

/**
 * uSockets sets SO_REUSEPORT only when it is given a port number: on a kernel-chosen port (--port 0)
 * the socket would be this thread's alone and the node's other HTTP threads could not listen beside it.
 * So take the kernel's pick, let it go and listen on it by number (again, should another process have
 * taken it in between).
 */
async function listenOnFreePort(listen: (h: string, p: number) => Promise<us_listen_socket>, host: string): Promise<us_listen_socket> {
  for (let attempt = 1; ; attempt++) {
    const probe = await listen(host, 0);
    const p = uws.us_socket_local_port(probe);
    uws.us_listen_socket_close(probe);
    try {
      return await listen(host, p);
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}
