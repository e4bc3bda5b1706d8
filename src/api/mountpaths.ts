// Mountpaths of a target through the native API, as AIStore names it: `GET /v1/daemon?what=mountpaths`,
// `PUT /v1/daemon/mountpaths {"action":"attach-mp","value":PATH}` and `DELETE /v1/daemon/mountpaths
// {"action":"detach-mp","value":PATH}` on the target; any gateway relays `/v1/reverse/daemon/...` to the
// node named by `Ais-Node-Id` (what AIStore's API and CLI send). Both answer at once; the resilver that
// follows runs in the background (its progress: `what=rebalance`).
import { intraAddr } from '../cluster/snode';
import { authorize } from '../authn/authn';
import { Ace } from '../authn/access';
import type { HttpResponse } from '../util/uws';
import { header, readBody, type Req } from './http';
import type { Node } from '../cluster/node';
import { FWD_HEADER } from '../cluster/intra';
import { forwardRequest } from '../proxy/forward';
import { MountpathError } from '../target/resilver';
import { ApiError, badRequest, guarded, notFound, parseAction, sendJson } from './native';

export interface MountpathList {
  available: string[];
  /** Being detached: still read until resilver has moved everything off. */
  waiting_dd: string[];
}

export function mountpathList(node: Node): MountpathList {
  const mps = node.target.mountpaths;
  return { available: mps.filter((m) => !m.detaching).map((m) => m.path), waiting_dd: mps.filter((m) => m.detaching).map((m) => m.path) };
}

/** PUT (attach-mp) or DELETE (detach-mp) /v1/daemon/mountpaths on a target. */
export function mountpathAction(node: Node, res: HttpResponse, req: Req): Promise<void> {
  const body = readBody(res, 64 << 10);
  return body.then((b) => {
    if (!node.isTarget) throw badRequest(`${node.self.id} is a proxy: it has no mountpaths`);
    const msg = parseAction(b);
    const want = req.method === 'PUT' ? 'attach-mp' : req.method === 'DELETE' ? 'detach-mp' : '';
    if (!msg || msg.action !== want || typeof msg.value !== 'string' || msg.value === '') {
      throw badRequest(`expected ${req.method} with {"action":"${want || 'attach-mp'}","value":"/mountpath"}`);
    }
    try {
      if (want === 'attach-mp') node.resilver!.attach(msg.value);
      else node.resilver!.detach(msg.value);
    } catch (err) {
      if (err instanceof MountpathError) throw new ApiError(err.status, err.message);
      throw badRequest((err as Error).message);
    }
    sendJson(res, req, mountpathList(node));
  });
}

/** `/v1/reverse/daemon/*` with `Ais-Node-Id`: relayed to that node's `/v1/daemon/*`. */
export function handleReverse(node: Node, res: HttpResponse, req: Req): void {
  guarded(res, req, () => {
    authorize(node, req, req.method === 'GET' ? Ace.SHOW_CLUSTER : Ace.ADMIN);
    const id = header(req, 'ais-node-id');
    if (id === '') {
      res.onData(() => {});
      throw badRequest('missing Ais-Node-Id header (the node to send this request to)');
    }
    const to = node.smap.get(id);
    if (!to) {
      res.onData(() => {});
      throw notFound(`node "${id}" (not in the cluster map)`);
    }
    const rest = `/v1${req.url.slice('/v1/reverse'.length)}`;
    const pathAndQuery = req.query ? `${rest}?${req.query}` : rest;
    forwardRequest(res, req, intraAddr(to), pathAndQuery, { [FWD_HEADER]: node.secret });
  });
}
