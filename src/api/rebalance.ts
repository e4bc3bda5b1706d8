// Rebalance and resilver progress through the native API: `GET /v1/daemon?what=rebalance` (this node's
// counters) and `GET /v1/cluster?what=rebalance` (the RMD and every target's counters, asked in parallel).
import type { Node } from '../cluster/node';
import type { RmdData } from '../cluster/meta';
import { intraCall } from '../cluster/intra';
import { nodeUrl } from '../cluster/snode';
import type { XactStats } from '../target/xaction';

export interface NodeRebStatus {
  daemon_id: string;
  /** The RMD this node holds (targets act on it). */
  rmd: RmdData;
  rebalance?: XactStats;
  resilver?: XactStats;
  error?: string;
}

export interface ClusterRebStatus {
  rmd: RmdData;
  /** True while the RMD says so or any target still runs or lags behind the RMD. */
  running: boolean;
  targets: Record<string, NodeRebStatus>;
}

export function nodeRebStatus(node: Node): NodeRebStatus {
  const s: NodeRebStatus = { daemon_id: node.self.id, rmd: node.rmd };
  if (node.reb) s.rebalance = node.reb.stats;
  if (node.resilver) s.resilver = node.resilver.stats;
  return s;
}

export async function clusterRebStatus(node: Node): Promise<ClusterRebStatus> {
  const out: ClusterRebStatus = { rmd: node.rmd, running: node.rmd.running, targets: {} };
  await Promise.all(
    node.smap.targets().map(async (t) => {
      if (t.id === node.self.id) return void (out.targets[t.id] = nodeRebStatus(node));
      try {
        const r = await intraCall(nodeUrl(t), '/v1/daemon?what=rebalance', { secret: node.secret, timeoutMs: 3000 });
        if (r.status !== 200) throw new Error(`status ${r.status}`);
        out.targets[t.id] = JSON.parse(r.body.toString('utf8')) as NodeRebStatus;
      } catch (err) {
        out.targets[t.id] = { daemon_id: t.id, rmd: node.rmd, error: (err as Error).message };
      }
    }),
  );
  for (const s of Object.values(out.targets)) if (s.rebalance?.state === 'running' || s.resilver?.state === 'running') out.running = true;
  return out;
}
