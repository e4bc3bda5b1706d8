// Intra-cluster routes: metadata sync, join, keepalive, listing pages, rebalance reports. Everything but
// autoreg (which hands the secret out, as AIStore's join does without a join secret) requires the
// cluster secret in `ais-intra`. Bodies are msgpack; errors are JSON like the rest of /v1.
import { unpack } from 'msgpackr';
import type { HttpResponse, TemplatedApp } from '../util/uws';
import { captureRequest, reply, readBody, header, type Req } from './http';
import { packMsg, INTRA_HEADER, MSGPACK } from '../cluster/intra';
import { listPage } from '../target/list';
import { mpuStore } from '../target/mpu';
import { startOnTarget, snapsOnTarget, stopOnTarget, type StartMsg } from './xactions';
import { etlOnTarget, type EtlOpMsg } from './etl';
import { shardMembers } from '../target/archpath';
import { receiveMoved } from '../target/reb-recv';
import { REB_PATH } from '../target/reb-send';
import type { Node } from '../cluster/node';
import type { MetaSet } from '../cluster/meta';
import type { Snode } from '../cluster/snode';
import { scanPromote, type PromoteArgs } from '../xact/promote';

const JSON_CT: readonly [string, string] = ['Content-Type', 'application/json'];
const MSG_CT: readonly [string, string] = ['Content-Type', MSGPACK];
const MAX_MSG = 64 << 20; // a full metadata set of a large BMD

export function jsonError(res: HttpResponse, req: Req, status: number, message: string): void {
  const line = status === 404 ? '404 Not Found' : status === 403 ? '403 Forbidden' : status === 409 ? '409 Conflict' : status === 503 ? '503 Service Unavailable' : status === 501 ? '501 Not Implemented' : status === 405 ? '405 Method Not Allowed' : status === 500 ? '500 Internal Server Error' : '400 Bad Request';
  reply(res, req, line, [JSON_CT], JSON.stringify({ message, status }));
}

function trusted(node: Node, res: HttpResponse, req: Req): boolean {
  if (node.secret && header(req, INTRA_HEADER) === node.secret) return true;
  jsonError(res, req, 403, 'intra-cluster request without the cluster secret');
  return false;
}

function sendMsg(res: HttpResponse, req: Req, value: unknown): void {
  reply(res, req, '200 OK', [MSG_CT], packMsg(value));
}

/**
 * A target's part of a cluster operation: POST of a msgpack message (at most `limit` bytes) that `run`
 * carries out; its result goes back as msgpack. Errors with a `status` keep it.
 */
function targetCall(app: TemplatedApp, node: Node, route: string, limit: number, run: (msg: unknown) => unknown): void {
  app.post(route, (res, r) => {
    const req = captureRequest(res, r);
    const body = readBody(res, limit);
    if (!trusted(node, res, req)) return;
    body
      .then(async (b) => {
        if (!node.isTarget) return jsonError(res, req, 400, 'not a target');
        sendMsg(res, req, await run(unpack(b)));
      })
      .catch((err: Error) => jsonError(res, req, (err as { status?: number }).status ?? 400, err.message));
  });
}

export function registerIntra(app: TemplatedApp, node: Node): void {
  app.put('/v1/metasync', (res, r) => {
    const req = captureRequest(res, r);
    const body = readBody(res, MAX_MSG);
    if (!trusted(node, res, req)) return;
    body.then(
      (b) => {
        node.applyMeta(unpack(b) as MetaSet);
        reply(res, req, '200 OK', []);
      },
      (err: Error) => jsonError(res, req, 400, err.message),
    );
  });
  app.get('/v1/metasync', (res, r) => {
    const req = captureRequest(res, r);
    if (trusted(node, res, req)) sendMsg(res, req, node.metaSet());
  });
  app.post('/v1/cluster/autoreg', (res, r) => {
    const req = captureRequest(res, r);
    readBody(res, 64 << 10)
      .then(async (b) => {
        if (!node.primary) return jsonError(res, req, 409, `not the primary: join ${node.primaryUrl}`);
        const { snode } = unpack(b) as { snode: Snode };
        if (!snode || typeof snode.id !== 'string' || (snode.type !== 'proxy' && snode.type !== 'target') || !Number.isInteger(snode.port) || (snode.intraPort !== undefined && !Number.isInteger(snode.intraPort))) {
          return jsonError(res, req, 400, 'invalid node');
        }
        // prepare: the metadata a joining node needs before it is in the Smap (and gets requests); no change here.
        if (new URLSearchParams(req.query).get('prepare') === 'true') {
          const m = node.metaSet();
          return sendMsg(res, req, { meta: { smap: m.smap, bmd: m.bmd, conf: m.conf }, secret: node.secret });
        }
        const meta = await node.primary.join(snode);
        sendMsg(res, req, { meta, secret: node.secret });
      })
      .catch((err: Error) => jsonError(res, req, 400, err.message));
  });
  app.post('/v1/cluster/keepalive/:id', (res, r) => {
    const req = captureRequest(res, r);
    const id = decodeURIComponent(r.getParameter(0) ?? '');
    res.onData(() => {});
    if (!trusted(node, res, req)) return;
    if (!node.primary) return jsonError(res, req, 409, `not the primary: ${node.primaryUrl}`);
    const versions = node.primary.keepalive(id);
    if (!versions) return jsonError(res, req, 404, `node ${id} is not in the cluster map`);
    sendMsg(res, req, versions);
  });
  app.post('/v1/cluster/rebalance-done', (res, r) => {
    const req = captureRequest(res, r);
    const body = readBody(res, 64 << 10);
    if (!trusted(node, res, req)) return;
    body
      .then(async (b) => {
        if (!node.primary) return jsonError(res, req, 409, 'not the primary');
        const { target, id } = unpack(b) as { target: string; id: number };
        await node.primary.rebalanceDone(target, id);
        reply(res, req, '200 OK', []);
      })
      .catch((err: Error) => jsonError(res, req, 400, err.message));
  });
  // An object moved here by another target's rebalance (framing: target/reb-send.ts).
  app.put(REB_PATH, (res, r) => {
    const req = captureRequest(res, r);
    if (!node.isTarget || !node.secret || header(req, INTRA_HEADER) !== node.secret) {
      res.onData(() => {}); // before the answer: uWS must not be touched after it
      return trusted(node, res, req) ? jsonError(res, req, 400, 'not a target') : undefined;
    }
    receiveMoved(node, res, req, (bucket, name, lom) => node.reb!.received(bucket, name, lom.size));
  });
  // One target's page of a bucket listing; the gateway merges the pages of all targets.
  app.get('/v1/intra/list/*', (res, r) => {
    const req = captureRequest(res, r);
    if (!trusted(node, res, req)) return;
    if (!node.isTarget) return jsonError(res, req, 400, 'not a target');
    const bucket = decodeURIComponent(req.url.slice('/v1/intra/list/'.length));
    const q = new URLSearchParams(req.query);
    listPage(node.target, bucket, {
      prefix: q.get('prefix') ?? '',
      delimiter: q.get('delimiter') ?? '',
      after: q.get('after') ?? '',
      maxKeys: Number(q.get('max') ?? 1000),
    }).then(
      (page) => sendMsg(res, req, page),
      (err: Error) => jsonError(res, req, 500, err.message),
    );
  });
  // Jobs (api/xactions.ts): start this target's part, report its snaps, stop it.
  targetCall(app, node, '/v1/intra/xact/start', 16 << 20, (m) => startOnTarget(node, m as StartMsg));
  // promote: what this target sees at the source (api/xactions.ts compares the targets' answers).
  targetCall(app, node, '/v1/intra/promote/scan', 1 << 20, (m) => scanPromote(m as PromoteArgs));
  app.get('/v1/intra/xact/snap', (res, r) => {
    const req = captureRequest(res, r);
    if (!trusted(node, res, req)) return;
    sendMsg(res, req, snapsOnTarget(new URLSearchParams(req.query).get('id') ?? undefined));
  });
  app.post('/v1/intra/xact/stop', (res, r) => {
    const req = captureRequest(res, r);
    const body = readBody(res, 64 << 10);
    if (!trusted(node, res, req)) return;
    body.then(
      (b) => sendMsg(res, req, stopOnTarget((unpack(b) as { id: string }).id)),
      (err: Error) => jsonError(res, req, 400, err.message),
    );
  });
  // ETLs (api/etl.ts): this target's part of init, start, stop, delete, list, logs.
  targetCall(app, node, '/v1/intra/etl', 1 << 20, (m) => etlOnTarget(node, m as EtlOpMsg));
  // The files of a .tar shard this target holds (bucket listings with the arch-dir flag, lso.ts).
  app.get('/v1/intra/archls/*', (res, r) => {
    const req = captureRequest(res, r);
    if (!trusted(node, res, req)) return;
    if (!node.isTarget) return jsonError(res, req, 400, 'not a target');
    const rest = req.url.slice('/v1/intra/archls/'.length);
    const slash = rest.indexOf('/');
    shardMembers(node.target, decodeURIComponent(rest.slice(0, slash)), decodeURIComponent(rest.slice(slash + 1))).then(
      (list) => sendMsg(res, req, list),
      (err: Error) => jsonError(res, req, 500, err.message),
    );
  });
  // This target's multipart uploads in progress in a bucket (ListMultipartUploads merges all targets').
  app.get('/v1/intra/uploads/*', (res, r) => {
    const req = captureRequest(res, r);
    if (!trusted(node, res, req)) return;
    if (!node.isTarget) return jsonError(res, req, 400, 'not a target');
    const bucket = decodeURIComponent(req.url.slice('/v1/intra/uploads/'.length));
    mpuStore(node.target)
      .uploads(bucket)
      .then(
        (list) => sendMsg(res, req, list),
        (err: Error) => jsonError(res, req, 500, err.message),
      );
  });
}
