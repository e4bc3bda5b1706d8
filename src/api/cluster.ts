// Native /v1/cluster and /v1/daemon: what the cluster and a node are (`?what=smap|bmd|config|rmd|stats|
// node_status|snode|rebalance|mountpaths|...`), a target's mountpath attach/detach (api/mountpaths.ts),
// and cluster config changes — `PUT /v1/cluster/set-config?checksum.type=md5`
// or `PUT /v1/cluster {"action":"set-config","value":{...}}` — made by the primary (others forward),
// versioned and pushed to every node, so they take effect everywhere at once.
import { authorize } from '../authn/authn';
import { Ace } from '../authn/access';
import fs from 'node:fs';
import os from 'node:os';
import type { HttpResponse } from '../util/uws';
import { reply, readBody, type Req } from './http';
import type { Node } from '../cluster/node';
import { setClusterConfig } from '../cluster/config';
import { intraCall } from '../cluster/intra';
import { nodeUrl, type Snode } from '../cluster/snode';
import { toPrimary } from '../proxy/route';
import { smapJson, snodeJson } from './smap-json';
import { queryXactStats, stopJob } from './xactions';
import { clusterRebStatus, nodeRebStatus } from './rebalance';
import { mountpathAction, mountpathList } from './mountpaths';
import { wrapped } from './buckets';
import { JSON_CT, badRequest, guarded, notServed, parseAction, sendJson } from './native';

const CLUSTER_WHAT = ['smap', 'bmd', 'config', 'cluster_config', 'rmd', 'rebalance', 'mountpaths', 'stats', 'status', 'snode', 'node_status', 'qryxstats'];

export function handleClusterV1(node: Node, res: HttpResponse, req: Req, scope: 'cluster' | 'daemon'): void {
  guarded(res, req, () => {
    const sub = req.url.slice(`/v1/${scope}`.length).replace(/^\/+/, '').replace(/\/+$/, '');
    authorize(node, req, req.method === 'GET' ? Ace.SHOW_CLUSTER : Ace.ADMIN);
    if (req.method === 'GET' && sub === '') return whatReply(node, res, req, scope);
    if (req.method === 'PUT' && scope === 'cluster' && (sub === '' || sub === 'set-config')) return setConfig(node, res, req, sub);
    if ((req.method === 'PUT' || req.method === 'DELETE') && scope === 'daemon' && sub === 'mountpaths') return mountpathAction(node, res, req);
    res.onData(() => {});
    if (req.method === 'PUT' && scope === 'daemon' && sub === 'set-config') throw notServed('node-local config (ais config node) is not supported: set the cluster config');
    throw notServed(`${req.method} ${req.url} is not supported`);
  });
}

function publicConfig(node: Node): unknown {
  return { ...node.config, auth: undefined };
}

async function whatReply(node: Node, res: HttpResponse, req: Req, scope: 'cluster' | 'daemon'): Promise<void> {
  res.onData(() => {});
  const what = new URLSearchParams(req.query).get('what') ?? '';
  switch (what) {
    case 'smap':
      return reply(res, req, '200 OK', [JSON_CT], smapJson(node.smap));
    case 'bmd':
      return sendJson(res, req, node.bmd.snapshot);
    case 'config':
    case 'cluster_config':
      return sendJson(res, req, publicConfig(node));
    case 'rmd':
      return sendJson(res, req, node.rmd);
    case 'rebalance':
      return sendJson(res, req, scope === 'daemon' ? nodeRebStatus(node) : await clusterRebStatus(node));
    case 'mountpaths':
      if (scope === 'cluster') throw notServed('what=mountpaths: ask each target (GET /v1/daemon?what=mountpaths, or /v1/reverse/daemon with Ais-Node-Id)');
      if (!node.isTarget) throw badRequest(`${node.self.id} is a proxy: it has no mountpaths`);
      return sendJson(res, req, mountpathList(node));
    case 'snode':
      return reply(res, req, '200 OK', [JSON_CT], snodeJson(node.self));
    case 'node_status':
      return sendJson(res, req, nodeStatus(node));
    case 'qryxstats':
      return queryXactStats(node, res, req, new URLSearchParams(req.query).get('id') ?? undefined);
    case 'stats':
    case 'status':
      if (scope === 'daemon') return sendJson(res, req, nodeStatus(node));
      return sendJson(res, req, await clusterStatus(node));
    default:
      throw notServed(`what=${what} is not served (valid: ${CLUSTER_WHAT.join(', ')})`);
  }
}

export interface NodeStatus {
  daemon_id: string;
  daemon_type: string;
  url: string;
  primary: boolean;
  uptime_ms: number;
  smap_version: number;
  bmd_version: number;
  config_version: number;
  mem: { rss: number; total: number; free: number };
  cpu: { load1: number; cores: number };
  /** Targets: the mountpaths' filesystems, summed. */
  capacity?: { used: number; avail: number; total: number; pct_used: number };
  counters?: Record<string, number>;
  /** HTTP threads serving the node's port (config net.http_threads). */
  http_threads: number;
  /** Targets: PUT buffers in flight now, the most ever, and the budget (config io.put_buffers_max). */
  put_buffers?: { in_flight: number; peak: number; max: number };
}

export function nodeStatus(node: Node): NodeStatus {
  const s: NodeStatus = {
    daemon_id: node.self.id,
    daemon_type: node.self.type,
    url: nodeUrl(node.self),
    primary: node.isPrimary,
    uptime_ms: Date.now() - node.startedAt,
    smap_version: node.smap.version,
    bmd_version: node.bmd.version,
    config_version: node.config.version,
    mem: { rss: process.memoryUsage.rss(), total: os.totalmem(), free: os.freemem() },
    cpu: { load1: os.loadavg()[0]!, cores: os.availableParallelism() },
    http_threads: node.httpThreads,
  };
  if (node.isTarget) {
    const seen = new Set<number>();
    let total = 0;
    let avail = 0;
    for (const mp of node.target.mountpaths) {
      const st = fs.statfsSync(mp.path);
      // Two mountpaths on one filesystem count once (the playground's folders share a disk).
      const key = st.blocks * 7 + st.bfree;
      if (seen.has(key)) continue;
      seen.add(key);
      total += st.blocks * st.bsize;
      avail += st.bavail * st.bsize;
    }
    const used = total - avail;
    s.capacity = { used, avail, total, pct_used: total ? Math.round((used / total) * 1000) / 10 : 0 };
    s.counters = node.target.stats.snapshot();
    const b = node.target.putBudget;
    s.put_buffers = { in_flight: b.inFlight, peak: b.peak, max: b.max };
  }
  return s;
}

/** Every node's status, by daemon ID; a node that does not answer is reported with its error. */
async function clusterStatus(node: Node): Promise<Record<string, NodeStatus | { daemon_id: string; error: string }>> {
  const nodes: Snode[] = [...Object.values(node.smap.data.pmap), ...Object.values(node.smap.data.tmap)];
  const out: Record<string, NodeStatus | { daemon_id: string; error: string }> = {};
  await Promise.all(
    nodes.map(async (n) => {
      if (n.id === node.self.id) return void (out[n.id] = nodeStatus(node));
      try {
        const r = await intraCall(nodeUrl(n), '/v1/daemon?what=node_status', { secret: node.secret, timeoutMs: 3000 });
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        out[n.id] = JSON.parse(r.body.toString('utf8')) as NodeStatus;
      } catch (err) {
        out[n.id] = { daemon_id: n.id, error: (err as Error).message };
      }
    }),
  );
  return out;
}

/** Config changes from the query (`?checksum.type=md5&features=...`) and/or a set-config action message. */
function setConfig(node: Node, res: HttpResponse, req: Req, sub: string): Promise<void> {
  return toPrimary(node, res, req, async () => {
    const body = await readBody(res, 1 << 20);
    const msg = parseAction(body);
    const changes: Record<string, unknown> = {};
    const q = new URLSearchParams(req.query);
    for (const [k, v] of q) if (k !== 'transient' && k !== 'what') changes[k] = v;
    if (msg?.action === 'stop') return stopJob(node, res, req, msg.value);
    if (msg?.action === 'rebalance') {
      let id: number;
      try {
        id = await node.primary!.startRebalance();
      } catch (err) {
        throw badRequest((err as Error).message);
      }
      return reply(res, req, '200 OK', [['Content-Type', 'text/plain']], `g${id}`);
    }
    if (msg) {
      if (msg.action !== 'set-config') throw notServed(`action "${msg.action}" on /v1/cluster is not supported (only "set-config", "rebalance" and "stop")`);
      if (msg.value !== undefined && msg.value !== null) {
        if (typeof msg.value !== 'object' || Array.isArray(msg.value)) throw badRequest('set-config: the value must be an object of config changes');
        Object.assign(changes, msg.value);
      }
    } else if (sub !== 'set-config') {
      throw badRequest('expected PUT /v1/cluster/set-config?name=value or {"action":"set-config","value":{...}}');
    }
    if (q.get('transient') === 'true') throw notServed('transient config changes are not supported');
    if (Object.keys(changes).length === 0) throw badRequest('set-config: nothing to change');
    await node.primary!.modifyConfig((conf) => {
      Object.assign(conf, wrapped(() => setClusterConfig(conf, changes)));
    });
    sendJson(res, req, publicConfig(node));
  });
}
