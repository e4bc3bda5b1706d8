// Native /v1/etl (AIStore's ETL API) on any gateway: init (PUT, the spec as JSON), list (GET), one ETL's
// details (GET /NAME) and logs (GET /NAME/logs), stop / start (POST /NAME/stop|start), delete (DELETE
// /NAME). Each is carried out on every target over the intra-cluster routes, where the ETL runs
// (etl/etl.ts); an init that fails on any target is undone on all of them. Changes go through the
// primary, which then records them in the EtlMD (cluster/meta.ts): a target that restarts or joins
// later starts the ETLs from there (etl/reconcile.ts).
import { authorize } from '../authn/authn';
import { Ace } from '../authn/access';
import type { HttpResponse } from '../util/uws';
import { readBody, reply, type Req } from './http';
import type { Node } from '../cluster/node';
import { IntraError, intraMsg, packMsg } from '../cluster/intra';
import { nodeUrl } from '../cluster/snode';
import { ApiError, badRequest, guarded, sendJson } from './native';
import { toPrimary } from '../proxy/route';
import { parseSpec, specJson, SpecError, checkEtlName, type EtlSpec } from '../etl/spec';
import { Etl, commandsRefused, etlPolicy, etls, type EtlInfo } from '../etl/etl';

export type EtlOp = 'init' | 'start' | 'stop' | 'delete' | 'list' | 'logs' | 'spec';

export interface EtlOpMsg {
  op: EtlOp;
  name?: string;
  spec?: EtlSpec;
}

/** One target's part; what the intra route and an in-process gateway-target call. */
export async function etlOnTarget(node: Node, m: EtlOpMsg): Promise<unknown> {
  if (m.op === 'list') return [...etls.values()].map((e) => e.info());
  if (m.op === 'init') {
    const spec = m.spec!;
    if (etls.has(spec.name)) throw new ApiError(409, `ETL "${spec.name}" already exists`);
    if (spec.runtime && !etlPolicy.commands) throw new ApiError(403, commandsRefused(spec.name, node.self.id));
    const etl = new Etl(spec, nodeUrl(node.self));
    etls.set(spec.name, etl);
    try {
      await etl.start();
    } catch (err) {
      etl.stop((err as Error).message);
      etls.delete(spec.name);
      throw new ApiError(500, `target ${node.self.id}: ETL "${spec.name}": ${(err as Error).message}`);
    }
    return etl.info();
  }
  let etl = etls.get(m.name!);
  // A target that restarted while the ETL was stopped has it in the EtlMD only: start makes it here.
  const recorded = node.etlmd.etls[m.name!];
  if (!etl && m.op === 'start' && recorded) etls.set(m.name!, (etl = new Etl(recorded.spec, nodeUrl(node.self))));
  if (!etl) return null; // the gateway decides whether no target having it is a 404
  switch (m.op) {
    case 'stop':
      etl.stop();
      return etl.info();
    case 'start':
      if (etl.stage === 'Running') return etl.info();
      try {
        await etl.start();
      } catch (err) {
        etl.stop((err as Error).message);
        throw new ApiError(500, `target ${node.self.id}: ETL "${etl.spec.name}": ${(err as Error).message}`);
      }
      return etl.info();
    case 'delete':
      etl.stop('deleted');
      etls.delete(m.name!);
      return etl.info();
    case 'logs':
      return { target_id: node.self.id, logs: etl.logText() };
    case 'spec':
      return etl.spec;
  }
}

/** Runs an op on every target: [targetID, answer] (answers of targets without the ETL are null). */
async function everywhere(node: Node, m: EtlOpMsg): Promise<[string, unknown][]> {
  const targets = node.smap.targets();
  if (targets.length === 0) throw new ApiError(503, 'the cluster has no storage targets');
  return Promise.all(
    targets.map(async (t): Promise<[string, unknown]> => {
      if (t.id === node.self.id && node.isTarget) return [t.id, await etlOnTarget(node, m)];
      try {
        return [t.id, await intraMsg(nodeUrl(t), '/v1/intra/etl', { method: 'POST', secret: node.secret, body: packMsg(m), timeoutMs: (m.spec?.initTimeoutMs ?? 10_000) + 15_000 })];
      } catch (err) {
        if (err instanceof IntraError) throw new ApiError(err.status, err.detail);
        throw err;
      }
    }),
  );
}

export function handleEtlV1(node: Node, res: HttpResponse, req: Req): void {
  guarded(res, req, async () => {
    const parts = req.url.replace(/^\/v1\/etl\/?/, '').replace(/\/+$/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
    const [name, sub] = parts;
    if (parts.length > 2) throw badRequest(`no such ETL path: ${req.url}`);
    authorize(node, req, req.method === 'GET' ? Ace.SHOW_CLUSTER : Ace.ADMIN);
    // Changes go to the primary, which records them in the EtlMD once the targets carried them out.
    if (req.method !== 'GET') return toPrimary(node, res, req, () => change(node, res, req, name, sub));
    res.onData(() => {});
    if (name === undefined) return sendJson(res, req, mergeList(await everywhere(node, { op: 'list' })));
    const have = haveEtl(name);
    if (sub === undefined) {
      const infos = have(await everywhere(node, { op: 'list' }).then((all) => all.map(([t, list]) => [t, (list as EtlInfo[]).find((i) => i.id === name) ?? null])));
      const spec = have(await everywhere(node, { op: 'spec', name }))[0]![1] as EtlSpec;
      return sendJson(res, req, { id: name, init_msg: specJson(spec), targets: Object.fromEntries(infos) });
    }
    if (sub === 'logs') return sendJson(res, req, have(await everywhere(node, { op: 'logs', name })).map(([, a]) => a));
    throw new ApiError(405, `${req.method} ${req.url} is not supported`);
  });
}

/** The answers of the targets that have ETL `name` (404 when none has it). */
function haveEtl(name: string): (answers: [string, unknown][]) => [string, unknown][] {
  try {
    checkEtlName(name);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  return (answers) => {
    const got = answers.filter(([, a]) => a !== null);
    if (got.length === 0) throw new ApiError(404, `ETL "${name}" does not exist`);
    return got;
  };
}

/** init, stop, start, delete: on every target, then in the EtlMD (on the primary). */
async function change(node: Node, res: HttpResponse, req: Req, name: string | undefined, sub: string | undefined): Promise<void> {
  if (name === undefined) {
    if (req.method === 'PUT' || req.method === 'POST') return initEtl(node, res, req, await readBody(res, 1 << 20));
    res.onData(() => {});
    throw new ApiError(405, `${req.method} /v1/etl is not supported (PUT initializes, GET lists)`);
  }
  res.onData(() => {});
  const have = haveEtl(name);
  if (req.method === 'POST' && (sub === 'stop' || sub === 'start')) {
    have(await everywhere(node, { op: sub, name }));
    await node.primary!.modifyEtlmd((etls) => {
      if (etls[name]) etls[name] = { spec: etls[name].spec, ...(sub === 'stop' ? { stopped: true } : {}) };
    });
    return reply(res, req, '200 OK', []);
  }
  if (req.method === 'DELETE' && sub === undefined) {
    have(await everywhere(node, { op: 'delete', name }));
    await node.primary!.modifyEtlmd((etls) => void delete etls[name]);
    return reply(res, req, '200 OK', []);
  }
  throw new ApiError(405, `${req.method} ${req.url} is not supported`);
}

async function initEtl(node: Node, res: HttpResponse, req: Req, body: Buffer): Promise<void> {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('PUT /v1/etl: the body must be the ETL spec as JSON');
  }
  let spec: EtlSpec;
  try {
    spec = parseSpec(raw);
  } catch (err) {
    if (err instanceof SpecError) throw badRequest(err.message);
    throw err;
  }
  try {
    await everywhere(node, { op: 'init', spec });
  } catch (err) {
    // All or nothing: the targets where it started let it go again (those where it existed before
    // answered 409 and keep theirs).
    if (!(err instanceof ApiError && err.status === 409)) await everywhere(node, { op: 'delete', name: spec.name }).catch(() => {});
    throw err;
  }
  await node.primary!.modifyEtlmd((etls) => void (etls[spec.name] = { spec }));
  reply(res, req, '200 OK', [['Content-Type', 'text/plain']], spec.name);
}

/** GET /v1/etl: one entry per ETL (AIStore's etl.Info), counters summed over the targets; its stage is
 *  Running only where every target runs it. */
function mergeList(answers: [string, unknown][]): EtlInfo[] {
  const by = new Map<string, EtlInfo>();
  for (const [, list] of answers) {
    for (const i of list as EtlInfo[]) {
      const cur = by.get(i.id);
      if (!cur) {
        by.set(i.id, { id: i.id, stage: i.stage, obj_count: i.obj_count, in_bytes: i.in_bytes, out_bytes: i.out_bytes, err_count: i.err_count, ...(i.err ? { err: i.err } : {}) });
        continue;
      }
      cur.obj_count += i.obj_count;
      cur.in_bytes += i.in_bytes;
      cur.out_bytes += i.out_bytes;
      cur.err_count += i.err_count;
      if (i.stage !== 'Running') cur.stage = i.stage;
      if (i.err) cur.err ??= i.err;
    }
  }
  return [...by.values()].sort((a, b) => a.id.localeCompare(b.id));
}
