// The HTTP front end of a node (uWebSockets.js): S3 under /s3 (and at the root with the S3-API-via-Root
// feature), the native API under /v1.
import { uws, type TemplatedApp, type us_listen_socket } from '../util/uws';
import { captureRequest, reply } from './http';
import { handleS3 } from '../proxy/prxs3';
import { handleBucketsV1 } from './buckets';
import { prometheusText } from './metrics';
import { registerIntra } from './intra';
import { handleObjectsV1 } from './objects';
import { handleReverse } from './mountpaths';
import { handleClusterV1 } from './cluster';
import type { Node } from '../cluster/node';

export interface Server {
  app: TemplatedApp;
  port: number;
  close(): void;
}

export function startServer(node: Node, host: string, port: number): Promise<Server> {
  const app = uws.App();
  app.any('/s3', (res, req) => {
    const r = captureRequest(res, req);
    handleS3(node, res, r, '/');
  });
  app.any('/s3/*', (res, req) => {
    const r = captureRequest(res, req);
    handleS3(node, res, r, r.url.slice(3));
  });
  // 200 once the node is in a cluster map (its own, or the primary's after joining).
  app.get('/v1/health', (res, req) => {
    const r = captureRequest(res, req);
    if (node.ready) reply(res, r, '200 OK', [['Ais-Node-Uptime', String((Date.now() - node.startedAt) * 1e6)]]);
    else reply(res, r, '503 Service Unavailable', [['Content-Type', 'application/json']], JSON.stringify({ message: 'joining the cluster', status: 503 }));
  });
  app.get('/metrics', (res, req) => {
    const r = captureRequest(res, req);
    const body = node.isTarget ? prometheusText(node.target.stats, node.self?.id ?? `t${port}`) : '';
    reply(res, r, '200 OK', [['Content-Type', 'text/plain; version=0.0.4']], body);
  });
  registerIntra(app, node);
  for (const route of ['/v1/buckets', '/v1/buckets/*']) {
    app.any(route, (res, req) => handleBucketsV1(node, res, captureRequest(res, req)));
  }
  app.any('/v1/objects/*', (res, req) => handleObjectsV1(node, res, captureRequest(res, req)));
  for (const scope of ['cluster', 'daemon'] as const) {
    for (const route of [`/v1/${scope}`, `/v1/${scope}/*`]) app.any(route, (res, req) => handleClusterV1(node, res, captureRequest(res, req), scope));
  }
  app.any('/v1/reverse/daemon/*', (res, req) => handleReverse(node, res, captureRequest(res, req)));
  app.any('/v1/reverse/daemon', (res, req) => handleReverse(node, res, captureRequest(res, req)));
  // Anything else under /v1 is answered at once: AIStore's clients retry 500 and 503 for minutes.
  app.any('/v1/*', (res, req) => {
    const r = captureRequest(res, req);
    res.onData(() => {});
    reply(res, r, '501 Not Implemented', [['Content-Type', 'application/json']], JSON.stringify({ message: `${r.method} ${r.url} is not supported by tais`, status: 501 }));
  });
  app.any('/*', (res, req) => {
    const r = captureRequest(res, req);
    if (node.config.features.includes('S3-API-via-Root')) return handleS3(node, res, r, r.url);
    reply(res, r, '404 Not Found', [['Content-Type', 'application/json']], JSON.stringify({ message: `no such path: ${r.url} (S3 is served under /s3)`, status: 404 }));
  });
  return new Promise((resolve, reject) => {
    app.listen(host, port, (sock: us_listen_socket | false) => {
      if (!sock) return reject(new Error(`cannot listen on ${host}:${port}`));
      resolve({ app, port: uws.us_socket_local_port(sock), close: () => uws.us_listen_socket_close(sock) });
    });
  });
}
